#!/usr/bin/env bash
# swarm.sh - bring up a real multi-node Docker Swarm on a single machine.
#
# Every node is a separate dockerd (with its own containerd, data-root,
# exec-root, socket, cgroup parent and hostname) running inside its own
# network namespace. The node namespaces are wired to a Linux bridge that
# lives in an extra namespace, so the host's own network is never touched.
# An "outside" namespace on the same bridge plays an external host.
#
# See tests/harness/README.md for the full description.
#
# Usage:
#   swarm.sh up [N_MANAGERS [N_WORKERS]]   (default 3 managers, 1 worker)
#   swarm.sh down
#   swarm.sh env
#   swarm.sh status
#   swarm.sh dockerd-stop I | dockerd-start I | dockerd-restart I
#   swarm.sh service-create NAME REPLICAS [SERVICE-CREATE-OPTIONS...] [-- CMD...]
#   swarm.sh service-rm NAME
#   swarm.sh docker I ARGS...              (docker CLI against node I)
#   swarm.sh nsexec I|outside|bridge CMD...  (run CMD in that network namespace)
#
# Environment:
#   HOSTD_SWARM_PREFIX   name prefix for namespaces/hostnames/cgroups (default "hostd-")
#   HOSTD_SWARM_DIR      state directory (default /var/lib/hostd-test/swarm)
#   HOSTD_SWARM_TIMEOUT  seconds for each bounded wait (default 90)
#   HOSTD_SWARM_DATA_PATH=1  every node also gets 10.78.0.(10+i)/24 and uses it
#                        as its --data-path-addr (VXLAN), apart from the
#                        advertise address

set -euo pipefail
set +m

PREFIX=${HOSTD_SWARM_PREFIX:-hostd-}
STATE=${HOSTD_SWARM_DIR:-/var/lib/hostd-test/swarm}
TIMEOUT=${HOSTD_SWARM_TIMEOUT:-90}
DOCKERD=/usr/sbin/dockerd
DOCKER=/usr/bin/docker
BUSYBOX=/bin/busybox
IMAGE=hostd-test/busybox:latest
NET4=10.77.0
NET6=fd77:
OUTSIDE_HOST=200
BR_NS=${PREFIX}br
OUT_NS=${PREFIX}outside
NETNS_DIR=/var/run/netns
HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MARKER=.hostd-swarm-state
# PATH for the daemons: Debian's docker.io/containerd/runc/iptables only.
DAEMON_PATH=/usr/sbin:/usr/bin:/sbin:/bin

log() { printf '[swarm %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[swarm %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

now_ms() { local t=${EPOCHREALTIME/./}; echo $(( ${t:0:-3} )); }

# ---------------------------------------------------------------- validation

validate_env() {
	[[ $PREFIX =~ ^[A-Za-z0-9][A-Za-z0-9-]{0,19}$ ]] ||
		die "HOSTD_SWARM_PREFIX '$PREFIX' must match [A-Za-z0-9][A-Za-z0-9-]{0,19}"
	[[ $STATE == /* && $STATE != *[[:space:]]* && $STATE != *//* && $STATE != */ ]] ||
		die "HOSTD_SWARM_DIR '$STATE' must be an absolute path without spaces or trailing slash"
	case "$STATE" in
	/ | /bin | /boot | /dev | /etc | /home | /lib* | /opt | /proc | /root | /run | /sbin | /srv | /sys | /tmp | /usr* | /var | /var/lib | /var/run | /var/tmp)
		die "refusing to use '$STATE' as state directory" ;;
	esac
	[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "HOSTD_SWARM_TIMEOUT must be an integer"
	# unix socket paths are limited to 108 bytes; containerd.sock.ttrpc is the longest
	local longest="$STATE/node99/exec/containerd/containerd.sock.ttrpc"
	((${#longest} < 100)) || die "HOSTD_SWARM_DIR '$STATE' is too long for unix socket paths"
}

need_root() { [[ $(id -u) == 0 ]] || die "must run as root"; }

# ------------------------------------------------------------------- naming

node_name() { echo "${PREFIX}n$1"; }            # netns name == hostname
node_ns() { echo "$NETNS_DIR/${PREFIX}n$1"; }
node_dir() { echo "$STATE/node$1"; }
node_sock() { echo "$STATE/node$1/docker.sock"; }
node_addr() { echo "$NET4.$((10 + $1))"; }
node_addr6() { echo "$NET6:$((10 + $1))"; }
node_data_addr() { echo "10.78.0.$((10 + $1))"; }
# the swarm init/join option for node I's data path, when asked for
data_path_opt() { if [[ ${DATA_PATH:-0} == 1 ]]; then echo "--data-path-addr=$(node_data_addr "$1")"; fi; }
node_cgparent() { echo "/${PREFIX}n$1"; }

dk() {
	local i=$1
	shift
	"$DOCKER" -H "unix://$(node_sock "$i")" "$@"
}

load_config() {
	[[ -f $STATE/config ]] || die "no swarm state in $STATE (run 'swarm.sh up' first)"
	# shellcheck disable=SC1091
	. "$STATE/config"
	N_NODES=$((N_MANAGERS + N_WORKERS))
}

node_role() { if (($1 <= N_MANAGERS)); then echo manager; else echo worker; fi; }

check_index() {
	if [[ ${1:-} =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= N_NODES)); then return 0; fi
	die "node index '${1:-}' out of range 1..$N_NODES"
}

# ---------------------------------------------------------------- processes

# alive (and not a zombie)
pid_alive() {
	local pid=$1 stat
	[[ -n $pid && -r /proc/$pid/stat ]] || return 1
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# wait until all given pids are gone; returns 1 on timeout
wait_pids_gone() {
	local timeout=$1 p alive
	shift
	local deadline=$(($(now_ms) + timeout * 1000))
	while :; do
		alive=0
		for p in "$@"; do pid_alive "$p" && alive=1 && break; done
		((alive)) || return 0
		(($(now_ms) >= deadline)) && return 1
		sleep 0.1
	done
}

# command line of a process, arguments separated (and terminated) by blanks
proc_args() {
	local argv=()
	{ mapfile -d '' -t argv <"/proc/$1/cmdline"; } 2>/dev/null || return 0
	((${#argv[@]})) && printf '%s ' "${argv[@]}"
	return 0
}

# ancestors of this script (never kill them)
self_chain() {
	local p=$$ stat rest
	while [[ -n $p && $p != 0 && $p != 1 ]]; do
		echo "$p"
		stat=$(cat "/proc/$p/stat" 2>/dev/null) || break
		rest=${stat##*) }
		read -r _ p _ <<<"$rest"
	done
}

# pids of daemon processes (dockerd, containerd, shims, docker-proxy, runc)
# whose command line references our state directory; optional argument:
# only processes with that executable name
state_pids() {
	local only=${1:-} f p exe args argv=()
	for f in /proc/[0-9]*/cmdline; do
		p=${f#/proc/}
		p=${p%/cmdline}
		[[ $p == "$$" || $p == "$BASHPID" ]] && continue
		{ mapfile -d '' -t argv <"$f"; } 2>/dev/null || continue
		((${#argv[@]})) || continue
		args="${argv[*]} "
		[[ $args == *"$STATE/"* ]] || continue
		exe=${argv[0]##*/}
		[[ -z $only || $exe == "$only" ]] || continue
		case "$exe" in
		dockerd | containerd | containerd-shim* | docker-proxy | runc | docker-init) echo "$p" ;;
		esac
	done
}

# pids of all processes whose network namespace is one of ours
netns_pids() {
	local ns inodes="" self
	for ns in $(our_netns); do
		inodes+=" net:[$(stat -L -c %i "$NETNS_DIR/$ns" 2>/dev/null)]"
	done
	[[ -n $inodes ]] || return 0
	self=" $(self_chain | tr '\n' ' ') "
	# a single find instead of a readlink per process
	find /proc -mindepth 3 -maxdepth 3 -path '/proc/[0-9]*/ns/net' -printf '%h %l\n' 2>/dev/null |
		awk -v want="$inodes " -v self="$self" '{
			split($1, a, "/"); pid = a[3]
			if (index(want, " " $2 " ") && !index(self, " " pid " ")) print pid
		}'
}

# cgroup directories used as --cgroup-parent by our dockerds
our_cgroup_dirs() {
	local mnt d
	for mnt in $(findmnt -rn -t cgroup,cgroup2 -o TARGET); do
		for d in "$mnt/${PREFIX}"n[0-9]*; do
			[[ -d $d && ${d##*/} =~ ^${PREFIX}n[0-9]+$ ]] && echo "$d"
		done
	done
	return 0
}

cgroup_pids() {
	local d
	for d in $(our_cgroup_dirs); do
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
	done | sort -u
}

kill_list() { # SIGNAL PIDS...
	local sig=$1 p
	shift
	for p in "$@"; do kill "-$sig" "$p" 2>/dev/null || true; done
}

our_netns() {
	local n
	[[ -d $NETNS_DIR ]] || return 0
	for n in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $n =~ ^${PREFIX}(n[0-9]+|br|outside)$ ]] && echo "$n"
	done
	return 0
}

dockerd_pid() { # prints pid of node I's dockerd if running
	local i=$1 d pid args
	d=$(node_dir "$i")
	pid=$(cat "$d/dockerd.pid" 2>/dev/null || true)
	if [[ -n $pid ]] && pid_alive "$pid"; then
		args=$(proc_args "$pid")
		[[ $args == *"--data-root $d/data "* ]] && {
			echo "$pid"
			return 0
		}
	fi
	# fall back to scanning (pidfile missing/stale)
	for pid in $(state_pids dockerd); do
		args=$(proc_args "$pid")
		[[ $args == *"--data-root $d/data "* ]] && {
			echo "$pid"
			return 0
		}
	done
	return 1
}

# --------------------------------------------------------------------- dockerd

dockerd_args() {
	local i=$1 d
	d=$(node_dir "$i")
	printf '%s\n' \
		--data-root "$d/data" \
		--exec-root "$d/exec" \
		--pidfile "$d/dockerd.pid" \
		-H "unix://$d/docker.sock" \
		--config-file "$d/daemon.json" \
		--exec-opt native.cgroupdriver=cgroupfs \
		--cgroup-parent "$(node_cgparent "$i")" \
		--storage-driver overlay2 \
		--swarm-default-advertise-addr "$(node_addr "$i")" \
		--iptables=true
	# HOSTD_SWARM_DOCKERD_EXTRA: more flags, one per word (a test's own)
	[ -z "${HOSTD_SWARM_DOCKERD_EXTRA:-}" ] || printf '%s\n' $HOSTD_SWARM_DOCKERD_EXTRA
}

start_dockerd() {
	local i=$1 d name args=()
	d=$(node_dir "$i")
	name=$(node_name "$i")
	[[ -e $(node_ns "$i") ]] || die "node $i: network namespace $(node_ns "$i") does not exist"
	if dockerd_pid "$i" >/dev/null; then die "node $i: dockerd already running (pid $(dockerd_pid "$i"))"; fi
	mkdir -p "$d"
	rm -f "$d/dockerd.pid"
	mapfile -t args < <(dockerd_args "$i")
	printf '=== %s starting dockerd for %s\n' "$(date -Is)" "$name" >>"$d/dockerd.log"
	# nsenter (not "ip netns exec", which remounts /sys and hides the cgroup
	# mounts); unshare --uts gives the node its own hostname. Every step execs,
	# so the launched pid becomes dockerd itself.
	# shellcheck disable=SC2016
	# DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1: the swarm executor otherwise
	# tries to pull the task image from Docker Hub before every task start.
	setsid -w env -i PATH="$DAEMON_PATH" HOME=/root LANG=C.UTF-8 DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 \
		nsenter --net="$(node_ns "$i")" \
		unshare --uts \
		/bin/sh -c 'hostname "$0" && cd / && exec "$@"' "$name" "$DOCKERD" "${args[@]}" \
		>>"$d/dockerd.log" 2>&1 </dev/null &
	echo $! >"$d/launcher.pid"
}

fail_node() { # I MESSAGE
	local i=$1 d
	shift
	d=$(node_dir "$i")
	{
		printf '[swarm %s] ERROR: node %s (%s, netns %s): %s\n' "$(date +%H:%M:%S)" "$i" "$(node_name "$i")" "$(node_ns "$i")" "$*"
		if [[ -f $d/dockerd.log ]]; then
			echo "---- last 30 lines of $d/dockerd.log ----"
			tail -n 30 "$d/dockerd.log"
			echo "---- end of log ----"
		fi
		echo "(run 'swarm.sh down' to clean up)"
	} >&2
	exit 1
}

ping_dockerd() {
	[[ -S $(node_sock "$1") ]] || return 1
	if command -v curl >/dev/null; then
		curl -sf --noproxy '*' --max-time 2 --unix-socket "$(node_sock "$1")" http://localhost/_ping >/dev/null 2>&1
	else
		timeout 5 "$DOCKER" -H "unix://$(node_sock "$1")" version >/dev/null 2>&1
	fi
}

wait_dockerd() {
	local i=$1 launcher
	local deadline=$(($(now_ms) + TIMEOUT * 1000))
	launcher=$(cat "$(node_dir "$i")/launcher.pid" 2>/dev/null || true)
	while ! ping_dockerd "$i"; do
		if [[ -n $launcher ]] && ! pid_alive "$launcher"; then
			fail_node "$i" "dockerd exited during startup"
		fi
		(($(now_ms) >= deadline)) && fail_node "$i" "dockerd did not answer on $(node_sock "$i") within ${TIMEOUT}s"
		sleep 0.1
	done
}

stop_dockerd() { # I [TIMEOUT]
	local i=$1 t=${2:-60} pid cpid
	pid=$(dockerd_pid "$i") || {
		log "node $i: dockerd not running"
		return 0
	}
	log "node $i: stopping dockerd (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_pids_gone "$t" "$pid"; then
		log "node $i: dockerd did not exit within ${t}s, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		wait_pids_gone 10 "$pid" || die "node $i: dockerd pid $pid survives SIGKILL"
		# a killed dockerd leaves its containerd behind; stop it too
		cpid=$(cat "$(node_dir "$i")/exec/containerd/containerd.pid" 2>/dev/null || true)
		if [[ -n $cpid ]] && pid_alive "$cpid"; then
			kill -TERM "$cpid" 2>/dev/null || true
			wait_pids_gone 10 "$cpid" || kill -KILL "$cpid" 2>/dev/null || true
		fi
	fi
}

# ---------------------------------------------------------------------- swarm

node_ls() { # from the first manager that answers
	local i
	for ((i = 1; i <= N_MANAGERS; i++)); do
		ping_dockerd "$i" || continue
		dk "$i" node ls "$@" 2>/dev/null && return 0
	done
	return 1
}

first_manager() {
	local i
	for ((i = 1; i <= N_MANAGERS; i++)); do
		if ping_dockerd "$i" && [[ $(dk "$i" info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null) == true ]]; then
			echo "$i"
			return 0
		fi
	done
	return 1
}

# true when node I is seen Ready (and, for managers, Reachable/Leader) by
# a manager, and node I itself reports an active swarm state; whatever its
# availability (a node drained for patching restarts drained)
node_ready() {
	local i=$1 name want line
	name=$(node_name "$i")
	[[ $(dk "$i" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null) == active ]] || return 1
	line=$(node_ls --format '{{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}' | awk -v n="$name" '$1 == n' || true)
	[[ $(wc -l <<<"$line") == 1 ]] || return 1
	want="$name Ready "
	[[ $line == "$want"* ]] || return 1
	if [[ $(node_role "$i") == manager ]]; then
		[[ $line == *Leader || $line == *Reachable ]] || return 1
	fi
	return 0
}

wait_node_ready() {
	local i=$1 deadline=$(($(now_ms) + TIMEOUT * 1000))
	while ! node_ready "$i"; do
		pid_alive "$(dockerd_pid "$i" || echo none)" || fail_node "$i" "dockerd died while waiting for the node to become Ready"
		(($(now_ms) >= deadline)) && {
			node_ls >&2 || true
			fail_node "$i" "node not Ready in the swarm within ${TIMEOUT}s"
		}
		sleep 0.25
	done
}

swarm_has_leader() {
	node_ls --format '{{.ManagerStatus}}' | grep -qx Leader
}

build_image_tar() {
	local root=$STATE/image/rootfs target
	[[ -x $BUSYBOX ]] || die "$BUSYBOX not found (apt-get install busybox-static)"
	rm -rf "$root"
	mkdir -p "$root"/{bin,etc,tmp,proc,sys,dev,root,www,var/www,var/run}
	cp "$BUSYBOX" "$root/bin/busybox"
	# one symlink per applet; busybox points them at its own resolved path
	# (e.g. /usr/bin/busybox on merged-/usr hosts), so provide that path too
	mkdir -p "$root/tmp/applets"
	"$BUSYBOX" --install -s "$root/tmp/applets"
	target=$(readlink "$root/tmp/applets/sh")
	[[ $target == /* ]] || die "unexpected busybox --install link target '$target'"
	if [[ $target != /bin/busybox ]]; then
		mkdir -p "$root$(dirname "$target")"
		ln -s /bin/busybox "$root$target"
	fi
	rm -f "$root/tmp/applets/busybox"
	mv -n "$root/tmp/applets/"* "$root/bin/"
	rm -rf "$root/tmp/applets"
	chmod 1777 "$root/tmp"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	echo 'hostd-test busybox image' >"$root/www/index.html"
	tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$root" -cf "$STATE/image/rootfs.tar" .
	rm -rf "$root"
}

write_env() {
	local f=$STATE/env.tmp i id
	{
		printf 'HOSTD_SWARM_NODES=%q\n' "$N_NODES"
		printf 'HOSTD_SWARM_MANAGERS=%q\n' "$N_MANAGERS"
		printf 'HOSTD_SWARM_WORKERS=%q\n' "$N_WORKERS"
		printf 'HOSTD_SWARM_PREFIX=%q\n' "$PREFIX"
		printf 'HOSTD_SWARM_DIR=%q\n' "$STATE"
		printf 'SWARM_DOCKER=%q\n' "$DOCKER"
		printf 'SWARM_IMAGE=%q\n' "$IMAGE"
		printf 'SWARM_BRIDGE_NETNS=%q\n' "$NETNS_DIR/$BR_NS"
		for ((i = 1; i <= N_NODES; i++)); do
			id=$(dk "$i" info --format '{{.Swarm.NodeID}}')
			[[ -n $id ]] || fail_node "$i" "no swarm node ID"
			printf 'NODE%d_NAME=%q\n' "$i" "$(node_name "$i")"
			printf 'NODE%d_NETNS=%q\n' "$i" "$(node_ns "$i")"
			printf 'NODE%d_SOCK=%q\n' "$i" "$(node_sock "$i")"
			printf 'NODE%d_HOST=%q\n' "$i" "unix://$(node_sock "$i")"
			printf 'NODE%d_ADDR=%q\n' "$i" "$(node_addr "$i")"
			printf 'NODE%d_ADDR6=%q\n' "$i" "$(node_addr6 "$i")"
			if [[ ${DATA_PATH:-0} == 1 ]]; then printf 'NODE%d_DATA_ADDR=%q\n' "$i" "$(node_data_addr "$i")"; fi
			printf 'NODE%d_ROLE=%q\n' "$i" "$(node_role "$i")"
			printf 'NODE%d_DATA_ROOT=%q\n' "$i" "$(node_dir "$i")/data"
			printf 'NODE%d_EXEC_ROOT=%q\n' "$i" "$(node_dir "$i")/exec"
			printf 'NODE%d_PIDFILE=%q\n' "$i" "$(node_dir "$i")/dockerd.pid"
			printf 'NODE%d_LOG=%q\n' "$i" "$(node_dir "$i")/dockerd.log"
			printf 'NODE%d_CGROUP_PARENT=%q\n' "$i" "$(node_cgparent "$i")"
			printf 'NODE%d_ID=%q\n' "$i" "$id"
		done
		printf 'OUTSIDE_NETNS=%q\n' "$NETNS_DIR/$OUT_NS"
		printf 'OUTSIDE_ADDR=%q\n' "$NET4.$OUTSIDE_HOST"
		printf 'OUTSIDE_ADDR6=%q\n' "$NET6:$OUTSIDE_HOST"
	} >"$f"
	mv "$f" "$STATE/env"
}

# -------------------------------------------------------------------- network

add_port() { # NETNS IFNAME_IN_BRIDGE ADDR4 ADDR6
	local ns=$1 port=$2 a4=$3 a6=$4
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip -n "$ns" link add eth0 type veth peer name "$port" netns "$BR_NS"
	ip -n "$BR_NS" link set "$port" master br0
	ip -n "$BR_NS" link set "$port" up
	ip -n "$ns" addr add "$a4/24" dev eth0
	ip -n "$ns" addr add "$a6/64" dev eth0 nodad
	ip -n "$ns" link set eth0 up
}

setup_network() {
	local i
	ip netns add "$BR_NS"
	ip -n "$BR_NS" link set lo up
	ip -n "$BR_NS" link add br0 type bridge
	ip -n "$BR_NS" link set br0 up
	for ((i = 1; i <= N_NODES; i++)); do
		add_port "$(node_name "$i")" "n$i" "$(node_addr "$i")" "$(node_addr6 "$i")"
		if [[ ${DATA_PATH:-0} == 1 ]]; then ip -n "$(node_name "$i")" addr add "$(node_data_addr "$i")/24" dev eth0; fi
	done
	add_port "$OUT_NS" out "$NET4.$OUTSIDE_HOST" "$NET6:$OUTSIDE_HOST"
}

# ----------------------------------------------------------------------- up

cmd_up() {
	local nm=${1:-3} nw=${2:-1} i t0 pids=() p rc tok_m tok_w
	[[ $nm =~ ^[0-9]+$ && $nw =~ ^[0-9]+$ ]] || die "usage: swarm.sh up [N_MANAGERS [N_WORKERS]]"
	((nm >= 1)) || die "need at least one manager"
	((nm + nw <= 50)) || die "at most 50 nodes"
	t0=$(now_ms)

	[[ -x $DOCKERD && -x $DOCKER ]] || die "$DOCKERD / $DOCKER missing (apt-get install docker.io)"
	if [[ -e $STATE ]]; then
		die "$STATE already exists: a swarm is up or a previous run failed (run 'swarm.sh down' first)"
	fi
	local left
	left=$(our_netns | tr '\n' ' ')
	[[ -z $left ]] || die "network namespaces from a previous run exist ($left); run 'swarm.sh down' first"
	left=$(our_cgroup_dirs | tr '\n' ' ')
	[[ -z $left ]] || die "cgroups from a previous run exist ($left); run 'swarm.sh down' first"

	local cgv=v1
	[[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]] && cgv=v2
	log "up: $nm manager(s), $nw worker(s); prefix '$PREFIX'; state $STATE; cgroup $cgv (driver cgroupfs)"

	local created_parent=0
	[[ -d $(dirname "$STATE") ]] || created_parent=1
	mkdir -p "$STATE"
	printf 'prefix=%s\ncreated_parent=%s\n' "$PREFIX" "$created_parent" >"$STATE/$MARKER"
	DATA_PATH=${HOSTD_SWARM_DATA_PATH:-0}
	printf 'N_MANAGERS=%d\nN_WORKERS=%d\nDATA_PATH=%s\n' "$nm" "$nw" "$DATA_PATH" >"$STATE/config"
	N_MANAGERS=$nm N_WORKERS=$nw N_NODES=$((nm + nw))

	log "up: creating namespaces and bridge"
	setup_network

	log "up: starting $N_NODES dockerd(s)"
	for ((i = 1; i <= N_NODES; i++)); do
		mkdir -p "$(node_dir "$i")"
		# daemon.json keeps the host's /etc/docker/daemon.json out and moves
		# the engine identity key (default /etc/docker/key.json) into the node
		# "sandbox-runc": privileged containers on machines whose bounding
		# set lacks a capability (see tests/harness/sandbox-runc)
		printf '{\n  "deprecated-key-path": "%s/key.json",\n  "runtimes": {"sandbox-runc": {"path": "%s"}}\n}\n' \
			"$(node_dir "$i")" "$HARNESS_DIR/sandbox-runc" >"$(node_dir "$i")/daemon.json"
		start_dockerd "$i"
	done
	mkdir -p "$STATE/image"
	build_image_tar
	for ((i = 1; i <= N_NODES; i++)); do wait_dockerd "$i"; done
	for ((i = 1; i <= N_NODES; i++)); do
		local name
		name=$(dk "$i" info --format '{{.Name}}')
		[[ $name == "$(node_name "$i")" ]] || fail_node "$i" "docker info reports Name '$name', expected '$(node_name "$i")'"
	done
	log "up: dockerds answering after $(($(now_ms) - t0))ms"

	log "up: importing $IMAGE on every node"
	pids=()
	for ((i = 1; i <= N_NODES; i++)); do
		dk "$i" import --change 'CMD ["/bin/sh"]' "$STATE/image/rootfs.tar" "$IMAGE" >/dev/null &
		pids+=($!)
	done
	for ((i = 1; i <= N_NODES; i++)); do
		rc=0
		wait "${pids[i - 1]}" || rc=$?
		((rc == 0)) || fail_node "$i" "docker import failed (rc $rc)"
	done

	log "up: swarm init on node 1 ($(node_addr 1))"
	timeout "$TIMEOUT" "$DOCKER" -H "unix://$(node_sock 1)" swarm init --advertise-addr "$(node_addr 1)" $(data_path_opt 1) >/dev/null ||
		fail_node 1 "docker swarm init failed"
	wait_node_ready 1
	tok_m=$(dk 1 swarm join-token -q manager)
	tok_w=$(dk 1 swarm join-token -q worker)

	# managers one at a time (each raft member must be in before the next)
	for ((i = 2; i <= N_MANAGERS; i++)); do
		log "up: node $i joins as manager"
		timeout "$TIMEOUT" "$DOCKER" -H "unix://$(node_sock "$i")" swarm join --token "$tok_m" \
			--advertise-addr "$(node_addr "$i")" $(data_path_opt "$i") "$(node_addr 1):2377" >/dev/null ||
			fail_node "$i" "docker swarm join (manager) failed"
		wait_node_ready "$i"
	done
	# workers in parallel
	pids=()
	for ((i = N_MANAGERS + 1; i <= N_NODES; i++)); do
		log "up: node $i joins as worker"
		timeout "$TIMEOUT" "$DOCKER" -H "unix://$(node_sock "$i")" swarm join --token "$tok_w" \
			--advertise-addr "$(node_addr "$i")" $(data_path_opt "$i") "$(node_addr 1):2377" >/dev/null &
		pids+=($!)
	done
	for ((i = N_MANAGERS + 1; i <= N_NODES; i++)); do
		rc=0
		wait "${pids[i - N_MANAGERS - 1]}" || rc=$?
		((rc == 0)) || fail_node "$i" "docker swarm join (worker) failed (rc $rc)"
	done
	for ((i = N_MANAGERS + 1; i <= N_NODES; i++)); do wait_node_ready "$i"; done

	write_env
	log "up: swarm of $N_NODES node(s) ready in $(($(now_ms) - t0))ms"
	node_ls
}

# --------------------------------------------------------------------- down

cmd_down() {
	local t0 p pids all_pids=() recorded created_parent=0 ns d m
	t0=$(now_ms)
	if [[ -f $STATE/$MARKER ]]; then
		recorded=$(sed -n 's/^prefix=//p' "$STATE/$MARKER")
		[[ $recorded == "$PREFIX" ]] ||
			die "$STATE was created with HOSTD_SWARM_PREFIX='$recorded' but the current prefix is '$PREFIX'"
		created_parent=$(sed -n 's/^created_parent=//p' "$STATE/$MARKER")
	elif [[ -e $STATE ]] && [[ -n $(ls -A "$STATE" 2>/dev/null) ]]; then
		die "$STATE exists but was not created by swarm.sh (no $MARKER); refusing to touch it"
	fi
	log "down: prefix '$PREFIX', state $STATE"

	# 1. containers first: they are thrown away anyway, and a dockerd
	#    without running tasks shuts down without waiting for stop timeouts
	mapfile -t pids < <(cgroup_pids)
	if ((${#pids[@]})); then
		log "down: killing ${#pids[@]} container process(es)"
		all_pids+=("${pids[@]}")
		kill_list KILL "${pids[@]}"
		wait_pids_gone 10 "${pids[@]}" || log "down: some container processes linger"
	fi

	# 2. dockerd: SIGTERM, bounded wait, SIGKILL
	mapfile -t pids < <(state_pids dockerd)
	if ((${#pids[@]})); then
		log "down: stopping dockerd pid(s) ${pids[*]}"
		all_pids+=("${pids[@]}")
		kill_list TERM "${pids[@]}"
		if ! wait_pids_gone 45 "${pids[@]}"; then
			log "down: dockerd still running after 45s, SIGKILL"
			kill_list KILL "${pids[@]}"
			wait_pids_gone 10 "${pids[@]}" || true
		fi
	fi

	# 3. everything else: containerd, shims, docker-proxy, anything still
	#    running inside our namespaces
	mapfile -t pids < <({
		state_pids
		netns_pids
		cgroup_pids
	} | sort -u)
	if ((${#pids[@]})); then
		log "down: terminating remaining process(es) ${pids[*]}"
		all_pids+=("${pids[@]}")
		kill_list TERM "${pids[@]}"
		if ! wait_pids_gone 10 "${pids[@]}"; then
			kill_list KILL "${pids[@]}"
			wait_pids_gone 10 "${pids[@]}" || log "down: processes survive SIGKILL"
		fi
	fi
	mapfile -t pids < <(cgroup_pids)
	if ((${#pids[@]})); then
		kill_list KILL "${pids[@]}"
		wait_pids_gone 10 "${pids[@]}" || true
	fi

	# dead daemons stay zombies until their (re)parent reaps them; give
	# init a moment so that "pgrep dockerd" right after down is clean
	local deadline=$(($(now_ms) + 5000))
	for p in "${all_pids[@]}"; do
		while [[ -e /proc/$p ]] && (($(now_ms) < deadline)); do sleep 0.1; done
	done

	# 4. cgroups (children first)
	for d in $(our_cgroup_dirs); do
		find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	done

	# 5. mounts under the state dir (overlay, shm, netns bind mounts, the
	#    data-root self bind mount), deepest first
	for _ in 1 2 3; do
		mapfile -t m < <(findmnt -rn -o TARGET | awk -v s="$STATE" 'index($0, s "/") == 1 || $0 == s' |
			awk '{print length($0) " " $0}' | sort -rn | cut -d' ' -f2-)
		((${#m[@]})) || break
		for d in "${m[@]}"; do
			d=$(printf '%b' "$d") # findmnt -r escapes blanks as \x20
			umount "$d" 2>/dev/null || umount -l "$d" 2>/dev/null || true
		done
	done

	# 6. namespaces
	for ns in $(our_netns); do
		ip netns delete "$ns" 2>/dev/null || {
			umount -l "$NETNS_DIR/$ns" 2>/dev/null || true
			rm -f "$NETNS_DIR/$ns"
		}
	done

	# 7. state directory
	if [[ -d $STATE ]]; then
		rm -rf --one-file-system "$STATE" || true
		if ((created_parent == 1)); then rmdir "$(dirname "$STATE")" 2>/dev/null || true; fi
	fi

	# 8. directories the daemons create outside the state dir; only removed
	#    when empty and when no other docker engine is running on the host
	if ! pgrep -x dockerd >/dev/null && ! pgrep -x containerd >/dev/null; then
		rmdir /run/containerd/s /run/containerd /run/docker/plugins /run/docker 2>/dev/null || true
	fi
	if [[ -d $NETNS_DIR ]] && [[ -z $(ls -A "$NETNS_DIR" 2>/dev/null) ]]; then
		umount "$NETNS_DIR" 2>/dev/null || true
		rmdir "$NETNS_DIR" 2>/dev/null || true
	fi

	# 9. verify
	local bad=0 left
	left=$(state_pids | tr '\n' ' ')
	[[ -z $left ]] || {
		log "down: LEFT: processes $left"
		bad=1
	}
	left=$(our_netns | tr '\n' ' ')
	[[ -z $left ]] || {
		log "down: LEFT: namespaces $left"
		bad=1
	}
	left=$(findmnt -rn -o TARGET | awk -v s="$STATE" 'index($0, s "/") == 1 || $0 == s' | tr '\n' ' ')
	[[ -z $left ]] || {
		log "down: LEFT: mounts $left"
		bad=1
	}
	left=$(our_cgroup_dirs | tr '\n' ' ')
	[[ -z $left ]] || {
		log "down: LEFT: cgroups $left"
		bad=1
	}
	[[ ! -e $STATE ]] || {
		log "down: LEFT: $STATE"
		bad=1
	}
	((bad == 0)) || die "down: incomplete cleanup"
	log "down: clean in $(($(now_ms) - t0))ms"
}

# ---------------------------------------------------------------- other cmds

cmd_env() {
	[[ -f $STATE/env ]] || die "no swarm is up under $STATE (run 'swarm.sh up')"
	cat "$STATE/env"
}

cmd_status() {
	local i pid
	load_config
	for ((i = 1; i <= N_NODES; i++)); do
		pid=$(dockerd_pid "$i" || true)
		printf '%-14s %-7s %-15s dockerd %s\n' "$(node_name "$i")" "$(node_role "$i")" "$(node_addr "$i")" \
			"$(if [[ -n $pid ]]; then echo "pid $pid"; else echo "NOT RUNNING"; fi)"
	done
	node_ls || die "no manager answers"
}

cmd_dockerd_start() {
	load_config
	check_index "${1:-}"
	local i=$1 t0
	t0=$(now_ms)
	start_dockerd "$i"
	wait_dockerd "$i"
	wait_node_ready "$i"
	log "node $i: dockerd up and node Ready in $(($(now_ms) - t0))ms"
}

cmd_dockerd_stop() {
	load_config
	check_index "${1:-}"
	stop_dockerd "$1"
}

cmd_dockerd_restart() {
	load_config
	check_index "${1:-}"
	stop_dockerd "$1"
	cmd_dockerd_start "$1"
	local deadline=$(($(now_ms) + TIMEOUT * 1000))
	while ! swarm_has_leader; do
		(($(now_ms) >= deadline)) && die "no swarm leader ${TIMEOUT}s after restarting node $1"
		sleep 0.25
	done
}

cmd_service_create() {
	load_config
	local name=${1:-} replicas=${2:-}
	[[ -n $name && $replicas =~ ^[0-9]+$ ]] || die "usage: swarm.sh service-create NAME REPLICAS [OPTIONS...] [-- CMD...]"
	shift 2
	local opts=() cmd=() m
	while (($#)); do
		if [[ $1 == -- ]]; then
			shift
			cmd=("$@")
			break
		fi
		opts+=("$1")
		shift
	done
	((${#cmd[@]})) || cmd=(sleep 1000000)
	m=$(first_manager) || die "no manager answers"
	dk "$m" service create --detach --quiet --no-resolve-image --name "$name" --replicas "$replicas" \
		"${opts[@]}" "$IMAGE" "${cmd[@]}"
	local deadline=$(($(now_ms) + TIMEOUT * 1000)) running
	while :; do
		running=$(dk "$m" service ps "$name" --filter desired-state=running --format '{{.CurrentState}}' 2>/dev/null | grep -c '^Running' || true)
		((running == replicas)) && break
		if (($(now_ms) >= deadline)); then
			dk "$m" service ps --no-trunc "$name" >&2 || true
			die "service $name: $running/$replicas tasks running after ${TIMEOUT}s"
		fi
		sleep 0.25
	done
	log "service $name: $replicas/$replicas tasks running"
}

cmd_service_rm() {
	load_config
	local m
	m=$(first_manager) || die "no manager answers"
	dk "$m" service rm "$@"
}

cmd_docker() {
	load_config
	check_index "${1:-}"
	local i=$1
	shift
	exec "$DOCKER" -H "unix://$(node_sock "$i")" "$@"
}

cmd_nsexec() {
	local t=${1:-} ns
	shift || true
	case "$t" in
	outside) ns=$NETNS_DIR/$OUT_NS ;;
	bridge | br) ns=$NETNS_DIR/$BR_NS ;;
	*)
		load_config
		check_index "$t"
		ns=$(node_ns "$t")
		;;
	esac
	(($#)) || die "usage: swarm.sh nsexec I|outside|bridge CMD..."
	exec nsenter --net="$ns" "$@"
}

usage() {
	sed -n '/^# Usage:/,/^# Environment:/p' "$0" | sed 's/^# \{0,1\}//' | grep -v '^Environment:'
}

main() {
	local sub=${1:-}
	shift || true
	case "$sub" in
	-h | --help | help | "")
		usage
		return 0
		;;
	esac
	validate_env
	need_root
	case "$sub" in
	up) cmd_up "$@" ;;
	down) cmd_down ;;
	env) cmd_env ;;
	status) cmd_status ;;
	dockerd-start) cmd_dockerd_start "$@" ;;
	dockerd-stop) cmd_dockerd_stop "$@" ;;
	dockerd-restart) cmd_dockerd_restart "$@" ;;
	service-create) cmd_service_create "$@" ;;
	service-rm) cmd_service_rm "$@" ;;
	docker) cmd_docker "$@" ;;
	nsexec) cmd_nsexec "$@" ;;
	*)
		usage >&2
		exit 2
		;;
	esac
}

main "$@"
