#!/usr/bin/env bash
# A real single-node Slurm on 127.0.0.1 for the test suite: munge, MariaDB, slurmdbd, slurmctld, slurmd,
# with two fake GPUs (GRES). `start` installs what is missing (Debian packages) and is idempotent; `stop`
# ends only the processes this script started (their PIDs are recorded under $D/owned).
#   tests/slurm/local-slurm.sh start|stop|status
set -euo pipefail

D=${LOCAL_SLURM_DIR:-/tmp/dislab-slurm}
MARK="# written by dislab tests/slurm/local-slurm.sh"
HOST=$(hostname -s)
PKGS="munge slurm-client slurmctld slurmd slurmdbd mariadb-server"

log() { echo "[local-slurm] $*" >&2; }

owned_pid() {  # record a PID we started
  echo "$2" > "$D/owned/$1"
}

alive() {  # alive NAME COMM: the recorded PID still runs that program
  local f="$D/owned/$1"
  [[ -f $f ]] && [[ -d /proc/$(cat "$f") ]] && grep -q "$2" "/proc/$(cat "$f")/comm" 2>/dev/null
}

install_packages() {
  local missing=()
  for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  ((${#missing[@]} == 0)) && return
  log "installing ${missing[*]}"
  apt-cache show slurmctld >/dev/null 2>&1 || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

write_conf() {  # write_conf PATH MODE: refuses to replace a file this script did not write
  local path=$1 mode=$2 body
  body=$(cat)
  if [[ -f $path ]] && ! grep -qF "$MARK" "$path" && [[ -z ${LOCAL_SLURM_FORCE:-} ]]; then
    echo "refusing to overwrite $path (not written by this script; set LOCAL_SLURM_FORCE=1)" >&2
    exit 1
  fi
  printf '%s\n%s\n' "$MARK" "$body" > "$path"
  chmod "$mode" "$path"
}

configure() {
  mkdir -p /etc/slurm "$D"/{state,spool,log,owned,mysql,run}
  local cpus sockets cores threads mem
  read -r cpus sockets cores threads mem < <(slurmd -C | awk '
    /NodeName/ {for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}}
    END {print v["CPUs"], v["Boards"] ? v["SocketsPerBoard"] : v["Sockets"], v["CoresPerSocket"], v["ThreadsPerCore"], v["RealMemory"]}')
  mem=$((mem * 85 / 100))
  ln -sf /dev/null "$D/fakegpu0"
  ln -sf /dev/null "$D/fakegpu1"
  write_conf /etc/slurm/slurm.conf 644 <<CONF
ClusterName=localcluster
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=512
MinJobAge=600
ReturnToService=2
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/run/slurmctld.pid
SlurmdPidFile=$D/run/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStorageTRES=gres/gpu
AccountingStoreFlags=job_comment
MailProg=/bin/true
MpiDefault=none
GresTypes=gpu
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$cpus Sockets=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads RealMemory=$mem Gres=gpu:fake:2 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  write_conf /etc/slurm/gres.conf 644 <<CONF
NodeName=$HOST Name=gpu Type=fake File=$D/fakegpu[0-1]
CONF
  write_conf /etc/slurm/slurmdbd.conf 600 <<CONF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=3306
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
LogFile=$D/log/slurmdbd.log
PidFile=$D/run/slurmdbd.pid
CONF
}

wait_for() {  # wait_for SECONDS COMMAND...
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { log "timed out waiting for: $*"; return 1; }
    sleep 0.5
  done
}

start_munge() {
  if pgrep -x munged >/dev/null; then return; fi  # reuse a munged we did not start; never stop it
  [[ -f /etc/munge/munge.key ]] || mungekey --create
  install -d -o munge -g munge /run/munge
  runuser -u munge -- /usr/sbin/munged
  owned_pid munged "$(pgrep -xn munged)"
}

start_mariadb() {
  alive mariadbd mariadbd && return
  if [[ ! -d $D/mysql/data/mysql ]]; then
    mariadb-install-db --no-defaults --user=root --datadir="$D/mysql/data" >/dev/null
  fi
  setsid mariadbd --no-defaults --user=root --datadir="$D/mysql/data" --bind-address=127.0.0.1 --port=3306 \
    --socket="$D/mysql/mysqld.sock" --pid-file="$D/mysql/mysqld.pid" --log-error="$D/log/mariadb.log" \
    </dev/null >/dev/null 2>&1 &
  owned_pid mariadbd $!
  wait_for 60 mariadb --no-defaults --socket="$D/mysql/mysqld.sock" -uroot -e "select 1"
  mariadb --no-defaults --socket="$D/mysql/mysqld.sock" -uroot -e "
    CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
    CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"
}

start_daemon() {  # start_daemon NAME: slurmdbd, slurmctld or slurmd (each daemonises and writes its pid file)
  alive "$1" "$1" && return
  "/usr/sbin/$1"
  wait_for 30 test -s "$D/run/$1.pid"
  owned_pid "$1" "$(cat "$D/run/$1.pid")"
}

accounts() {
  # -P: parsable output; the default columns truncate names to 10 characters
  sacctmgr -n -P list cluster format=cluster | grep -qx localcluster || sacctmgr -i add cluster localcluster >/dev/null
  sacctmgr -n -P list account format=account | grep -qx testacct || sacctmgr -i add account testacct >/dev/null
  sacctmgr -n -P list assoc format=account,user | grep -qx 'testacct|root' ||
    sacctmgr -i add user root Account=testacct >/dev/null
}

start() {
  install_packages
  mkdir -p "$D/owned"
  configure
  start_munge
  start_mariadb
  start_daemon slurmdbd
  wait_for 60 sacctmgr -n list cluster
  accounts
  start_daemon slurmctld
  start_daemon slurmd
  wait_for 60 bash -c "sinfo -h -o %t | grep -qE 'idle|mix|alloc'" || {
    scontrol update nodename="$HOST" state=resume || true
    wait_for 30 bash -c "sinfo -h -o %t | grep -qE 'idle|mix|alloc'"
  }
  log "up: $(sinfo -h -o '%P %t %G')"
}

stop() {
  command -v scancel >/dev/null && scancel --user=root 2>/dev/null || true
  for name in slurmd slurmctld slurmdbd mariadbd munged; do
    alive "$name" "$name" || { rm -f "$D/owned/$name"; continue; }
    local pid
    pid=$(cat "$D/owned/$name")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do [[ -d /proc/$pid ]] || break; sleep 0.2; done
    alive "$name" "$name" && kill -KILL "$pid" 2>/dev/null || true
    rm -f "$D/owned/$name"
  done
  # With a slurm.conf whose controller is down, every Slurm command waits for it, and so does every Snakemake
  # start (the Slurm plugin runs `scontrol show config` when it loads; docs/performance.md). `start` writes them again.
  for conf in slurm.conf gres.conf slurmdbd.conf; do
    grep -qF "$MARK" "/etc/slurm/$conf" 2>/dev/null && rm -f "/etc/slurm/$conf"
  done
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) sinfo && squeue ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
