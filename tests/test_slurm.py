"""The workflow through a real single-node Slurm started here (tests/slurm/), driven the way a user drives it: the
site profile installed as the README says into a config home of the test's own, then, from the root of a copy of
the repository, exactly `snakemake --profile slurm --configfile CONFIG`.

The installed profile gets the edits a site makes to it: no conda (conda's channels cannot be reached here), one
CPU a job (the node has two), and shorter waits for this one-node cluster's fast file system.

Needs root and Debian's slurm, munge and MariaDB packages (tests/slurm/local-slurm.sh installs them). When
the cluster cannot start, these tests fail saying why; they are never skipped.
"""

import os
import shutil
import signal
import subprocess
import time

import pandas as pd
import pytest
import torch
import yaml
from conftest import PAYLOAD, REPO, SHA, SNAKEMAKE, ctrl_c_as_in_a_terminal

SLURM = REPO / "tests" / "slurm"
SITE_EDITS = {  # what this test site changes in its copy of profiles/slurm
    "software-deployment-method": None,  # conda's channels cannot be reached here: the venv's packages
    "cores": 1,  # a pooled job asks for this many CPUs; the node has two, shared by two jobs
    "jobs": 4,
    "latency-wait": 5,
    "slurm-init-seconds-before-status-checks": 2,
    "slurm-keep-successful-logs": True,
}

pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module")
def cluster():
    script = SLURM / "local-slurm.sh"
    if os.geteuid() != 0:
        pytest.fail("the Slurm tests start munge, MariaDB and Slurm daemons and need root")
    start = time.time()
    proc = subprocess.run([str(script), "start"], capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        pytest.fail(f"could not start the local Slurm cluster:\n{proc.stdout}\n{proc.stderr}")
    print(f"local Slurm up in {time.time() - start:.0f} s")
    yield
    subprocess.run([str(script), "stop"], capture_output=True, text=True, timeout=300)


def readme_install_command() -> str:
    """The README's command that installs the site profile (the test runs it as it stands there)."""
    lines = [line for line in (REPO / "README.md").read_text().splitlines() if "cp -r profiles/slurm" in line]
    assert len(lines) == 1, f"the README should show one command that installs the site profile: {lines}"
    return lines[0].strip()


def new_user(root):
    """A user: a copy of the repository (their clone) and a config home with the site profile installed the
    README's way, with this site's edits."""
    repo = root / "dislab"
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in files:
        if (REPO / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, repo / name)
    home = root / "config-home"
    env = {**os.environ, "XDG_CONFIG_HOME": str(home)}
    subprocess.run(["bash", "-c", readme_install_command()], cwd=repo, env=env, check=True)
    profile = home / "snakemake" / "slurm" / "config.yaml"
    settings = yaml.safe_load(profile.read_text())
    assert settings["executor"] == "slurm" and "group-components" not in settings  # the workflow's own are not here
    for key, value in SITE_EDITS.items():
        settings.pop(key, None) if value is None else settings.__setitem__(key, value)
    profile.write_text(yaml.safe_dump(settings))
    return repo, env


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    """One user for the tests that use the dataset as config/tiny.yaml makes it: the later ones find it made."""
    return new_user(tmp_path_factory.mktemp("user"))


@pytest.fixture
def new_clone(tmp_path):
    """A user of their own, for a test that changes the dataset."""
    return new_user(tmp_path)


def snakemake_slurm(user, configfile, *targets, timeout=900, wait=True):
    """`snakemake --profile slurm --configfile CONFIG` from the root of the user's clone. Waited for, it runs under
    `timeout`, which sends SIGINT (so that it cancels its jobs) when time is up. Not waited for, it runs alone in its
    process group, as in a terminal, for the test to interrupt: `timeout` would forward that SIGINT a second time
    and SIGKILL a slow shutdown."""
    repo, env = user
    cmd = [SNAKEMAKE, *targets, "--profile", "slurm", "--configfile", str(configfile)]  # --configfile takes a list
    if wait:
        cmd = ["timeout", "-s", "INT", "-k", "30", str(timeout), *cmd]
    proc = subprocess.Popen(
        cmd,
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=ctrl_c_as_in_a_terminal,
    )
    if not wait:
        return proc
    out, _ = proc.communicate()
    return proc.returncode, out


def sacct(since: str):
    fields = "JobID,JobName%60,State,Comment%200,AllocTRES%120,Start,End"
    out = subprocess.run(
        ["sacct", "-X", "-P", "-n", f"--starttime={since}", f"--format={fields}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [line.split("|") for line in out.splitlines() if line]
    return pd.DataFrame(rows, columns=fields.replace("%60", "").replace("%200", "").replace("%120", "").split(","))


def sacct_state(job_id: str) -> str:
    return subprocess.run(
        ["sacct", "-X", "-n", "-P", "-j", job_id, "--format=State"], capture_output=True, text=True
    ).stdout


def _now():
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def test_tiny_through_slurm_matches_a_local_run(cluster, user, tiny_run):
    repo, _ = user
    since = _now()
    time.sleep(1)
    code, out = snakemake_slurm(user, "config/tiny.yaml")
    assert code == 0, out[-6000:]
    assert "Using profiles slurm and workflow specific profile profiles/default" in out, out[:2000]

    jobs = sacct(since)
    assert len(jobs) > 0 and (jobs["State"] == "COMPLETED").all(), jobs.to_string()
    comments = " ".join(jobs["Comment"])
    # every kind of job went through sbatch: the plugin tags each submission with its rule (or group)
    for rule in ("render_dsprites", "check_dataset", "train", "tables", "results_index"):
        assert f"rule_{rule}" in comments, f"no Slurm job for rule {rule}: {comments}"
    # evaluate and downstream (14 jobs) pooled into one job, the figures into two (profiles/default); a pooled job
    # asks for one CPU (the site's `cores`); the figures of the models are drawn beside the evaluations
    pools = jobs.assign(pool=jobs["Comment"].str.extract(r"^rule_(evaluate|model_figures|table_figures)_")[0])
    pooled = pools.dropna(subset=["pool"]).set_index("pool")
    assert sorted(pooled.index) == ["evaluate", "model_figures", "table_figures"], jobs.to_string()
    assert pooled["AllocTRES"].str.contains(rf"cpu={SITE_EDITS['cores']}\b").all(), pooled.to_string()
    assert pooled.at["model_figures", "Start"] < pooled.at["evaluate", "End"], pooled.to_string()
    trains = jobs[jobs["Comment"].str.contains("rule_train")]
    # config/tiny.yaml trains on the CPU (training.device: cpu): its jobs ask for no GPU
    assert len(trains) == 7 and not trains["AllocTRES"].str.contains("gres/gpu").any(), trains.to_string()

    # the same numbers as the local run: training and evaluation are deterministic on the CPU
    local = pd.read_csv(tiny_run / "results" / "tables" / "metrics.csv")
    remote = pd.read_csv(repo / "results" / "tables" / "metrics.csv")
    pd.testing.assert_frame_equal(local, remote, rtol=1e-6)
    cell = "results/models/factorvae/10/seed0/model.pt"
    assert (tiny_run / cell).read_bytes() == (repo / cell).read_bytes()  # the same weights, the same bytes
    assert sorted(p.name for p in (repo / "results" / "figures").iterdir()) == sorted(
        p.name for p in (tiny_run / "results" / "figures").iterdir()
    )
    assert "snakemake --report results/report.html --configfile config/tiny.yaml" in " ".join(
        (repo / "results" / "README.md").read_text().split()
    )


def test_a_cancelled_training_job_resumes_from_its_checkpoint(cluster, user, tmp_path):
    cfg = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    steps = 600  # cancelled within about a second of its first checkpoint (step 100): 20-80 steps on these CPUs
    cfg["training"].update(steps=steps, checkpoint_every=100, log_every=100)
    config = tmp_path / "long.yaml"
    config.write_text(yaml.safe_dump(cfg))
    target = "results/models/betavae/1/seed0/model.pt"
    repo, _ = user
    cell = repo / "results" / "models" / "betavae" / "1" / "seed0"

    proc = snakemake_slurm(user, config, target, wait=False)
    deadline = time.time() + 300
    while not (cell / "resume.pt").exists():
        assert proc.poll() is None, proc.stdout.read()[-4000:]
        assert time.time() < deadline, "no checkpoint appeared"
        time.sleep(0.5)
    squeue = subprocess.run(["squeue", "-h", "-o", "%i|%k"], capture_output=True, text=True).stdout
    job_ids = [line.split("|")[0] for line in squeue.splitlines() if "rule_train" in line]
    assert len(job_ids) == 1, squeue
    subprocess.run(["scancel", job_ids[0]], check=True)
    deadline = time.time() + 60
    while "CANCELLED" not in sacct_state(job_ids[0]):
        assert time.time() < deadline, sacct_state(job_ids[0])
        time.sleep(1)
    # The slurm plugin (2.8.0) does not recognise sacct's "CANCELLED by <uid>" and would wait for the job
    # forever; a person stops Snakemake with Ctrl-C, as here, and reruns it.
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:  # leave no Snakemake behind to poll the cluster of later tests
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    locks = list((repo / ".snakemake" / "locks").glob("*"))
    assert not locks, f"Snakemake left its lock after Ctrl-C:\n{out[-4000:]}"
    assert not (cell / "model.pt").exists()
    step = torch.load(cell / "resume.pt", weights_only=False)["step"]
    assert 0 < step < steps

    code, out = snakemake_slurm(user, config, target)
    assert code == 0, out[-6000:]
    log = (repo / "logs" / "train" / "betavae" / "1" / "seed0.log").read_text()
    resumed = [int(line.rsplit("after step ", 1)[1].split()[0]) for line in log.splitlines() if "resumed" in line]
    assert resumed == [step], log[-3000:]
    trained = pd.read_csv(cell / "train_log.csv")
    assert trained["step"].iloc[-1] == steps and trained["step"].is_monotonic_increasing
    assert (cell / "summary.json").exists() and not (cell / "resume.pt").exists()


def test_the_download_runs_where_snakemake_runs_and_a_failed_job_is_printed_and_queued_once(
    cluster, new_clone, server, tmp_path
):
    """Compute nodes often have no route out: the download is a local rule and never reaches sbatch. A job that
    fails on Slurm (here the dataset check, on a served file that is not dSprites) is submitted once and its message
    printed once: no retry."""
    cfg = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    url = f"{server}/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.hdf5"
    cfg["dataset"].update(source="download", url=url, sha256="0" * 64, size=len(PAYLOAD))
    config = tmp_path / "download.yaml"
    config.write_text(yaml.safe_dump(cfg))
    repo, _ = new_clone
    since = _now()
    time.sleep(1)
    code, out = snakemake_slurm(new_clone, config, "results/data/dataset.json", timeout=300)
    assert code != 0 and out.count("dislab download: error:") == 1 and "sha256" in out, out[-4000:]
    assert len(sacct(since)) == 0, sacct(since).to_string()  # the download failed where Snakemake runs

    cfg["dataset"]["sha256"] = SHA  # the served file now passes the download's checksum, but it is not dSprites
    config.write_text(yaml.safe_dump(cfg))
    since = _now()
    time.sleep(1)
    code, out = snakemake_slurm(new_clone, config, "results/data/dataset.json", timeout=300)
    assert code != 0 and (repo / "resources" / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.hdf5").exists()
    assert out.count("dislab check-dataset: error:") == 1 and "Trying to restart" not in out, out[-4000:]
    jobs = sacct(since)
    comments = " ".join(jobs["Comment"])
    assert "rule_download_dsprites" not in comments, jobs.to_string()
    assert list(jobs["Comment"].str.contains("rule_check_dataset")) == [True], jobs.to_string()  # queued once
    assert (jobs["State"] == "FAILED").all(), jobs.to_string()
