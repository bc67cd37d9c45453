"""dSprites: the factor grid, the offline renderer, the download and the one loader every rule uses."""
