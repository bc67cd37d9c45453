"""Factor classes (shape, scale, orientation, posX, posY) of the 320 real frames of DeepMind's dsprites.gif.

Transcribed from shared/notes/dsprites-facts.md, section 2.2; "dup" frames repeat the previous label.
"""


def gif_frame_labels():
    labels = []
    state = {"shape": 2, "scale": 0, "orientation": 0, "posX": 0, "posY": 0}

    def sweep(factor, values):
        for value in values:
            state[factor] = value
            labels.append(tuple(state[k] for k in ("shape", "scale", "orientation", "posX", "posY")))

    def dup():
        labels.append(labels[-1])

    # heart
    sweep("scale", range(0, 6))
    sweep("scale", range(5, -1, -1))
    sweep("scale", range(0, 6))
    dup()
    sweep("orientation", range(1, 40))
    dup()
    sweep("posY", range(1, 32))
    dup()
    sweep("posX", range(1, 32))
    dup()
    sweep("posY", range(30, -1, -1))
    dup()
    sweep("posX", range(30, -1, -1))
    dup()
    sweep("scale", range(4, -1, -1))
    # ellipse, then square: the same pattern
    for shape in (1, 0):
        state.update(shape=shape, scale=0, orientation=0, posX=0, posY=0)
        sweep("scale", range(0, 6))
        dup()
        sweep("scale", range(4, -1, -1))
        dup()
        sweep("scale", range(1, 6))
        dup()
        sweep("orientation", range(1, 40))
        dup()
        sweep("scale", range(4, -1, -1))
    assert len(labels) == 320, len(labels)
    return labels
