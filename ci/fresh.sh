#!/usr/bin/env bash
# Proves the README's two commands on a fresh Debian 12 machine: makes a
# new bookworm root with mmdebstrap (from the package sources apt uses on
# this machine), copies this machine's Go toolchain into it (Debian 12's Go
# is older than go.mod's), clones the repository's committed HEAD into it,
# and runs `make demo`, then `make test`, inside it as root: a chroot in a
# private mount namespace with /proc, /sys and /dev bound.
#
# A developer's tool, not part of `make test`: it builds everything from
# nothing (the kernel, podman, MinIO), about an hour on 2 cores. It needs
# root. Usage: ci/fresh.sh [-resume] [DIR] (default: a new directory under
# /var/tmp; kept afterwards, with the log in DIR.log). -resume reruns the
# two commands in the root DIR that an earlier run made, on a new clone:
# what that run installed and built stays (its kernel cache, its Debian
# packages), as on a machine where the first try stopped half-way.
#
# The network scenarios create host bridges (b2cbrN): do not run another
# `make e2e` on this machine at the same time.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" != 0 ]; then
	echo "fresh: needs root (mmdebstrap, chroot, mounts)" >&2
	exit 1
fi
command -v mmdebstrap >/dev/null || {
	echo "fresh: installing mmdebstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap >/dev/null
}
resume=
if [ "${1:-}" = -resume ]; then
	resume=1
	shift
	[ -d "${1:-}/usr/local/go" ] || { echo "fresh: -resume needs the root of an earlier run" >&2; exit 1; }
fi
root=${1:-$(mktemp -d /var/tmp/b2c-fresh.XXXXXX)}
log=$root.log
[ -z "$resume" ] || log=$root.resume.log
goroot=$(go env GOROOT)
sources=
for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
	[ -s "$f" ] && { sources=$f; break; }
done
[ -n "$sources" ] || { echo "fresh: no apt sources on this machine" >&2; exit 1; }

start=$SECONDS
# stamp prefixes each line with the seconds since the start.
stamp() { while IFS= read -r l; do printf '%5d %s\n' $((SECONDS - start)) "$l"; done; }

{
	if [ -z "$resume" ]; then
		echo "fresh: making a bookworm root in $root from $sources"
		# The default variant (Debian's required and important packages)
		# is what a new Debian 12 machine has; git, make and CA
		# certificates are what the README assumes before its first command.
		mmdebstrap --quiet --include=git,make,ca-certificates bookworm "$root" "$sources"
	else
		echo "fresh: resuming in $root"
	fi
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	# The chroot shares this machine's host name: let it resolve there
	# too, as a machine's own /etc/hosts does (TestProxy needs it).
	cp /etc/hosts "$root/etc/hosts"
	# The certificate authorities this machine added to Debian's (a
	# network that inspects TLS on its way out has its own): without them
	# the Go module proxy is out of reach from the root, as it would be
	# from any new machine on that network until its admin adds them.
	if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
		cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
		chroot "$root" update-ca-certificates >/dev/null
	fi
	if [ -z "$resume" ]; then
		echo "fresh: copying Go $(go env GOVERSION) from $goroot"
		cp -a "$goroot" "$root/usr/local/go"
	fi
	rm -rf "$root/root/b2c"
	echo "fresh: cloning $(git -C "$repo" rev-parse --short HEAD)"
	git clone -q --no-hardlinks "$repo" "$root/root/b2c"
	echo "fresh: make demo, then make test"
} 2>&1 | stamp | tee "$log"

# The mounts live in a private namespace: they vanish with it, whatever
# happens inside.
set +e
unshare --mount --propagation private -- bash -euo pipefail -c '
	root=$1
	mount --rbind /dev "$root/dev"
	mount -t proc proc "$root/proc"
	mount --rbind /sys "$root/sys"
	mount -t tmpfs tmpfs "$root/run"
	exec chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/go/bin:/root/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		bash -c "cd /root/b2c && make demo && echo fresh: demo passed && make test && echo fresh: test passed"
' fresh "$root" 2>&1 | stamp | tee -a "$log"
rc=${PIPESTATUS[0]}
set -e

# The phases, from the lines each step prints.
awk '
	function at(re,   i) { for (i = 1; i <= n; i++) if (line[i] ~ re) return t[i]; return -1 }
	function after(re, from,   i) { for (i = 1; i <= n; i++) if (t[i] >= from && line[i] ~ re) return t[i]; return -1 }
	function show(name, a, b) { if (a >= 0 && b >= a) printf "fresh: %-16s %5d s\n", name, b - a; else printf "fresh: %-16s    n/a\n", name }
	{ t[++n] = $1; sub(/^ *[0-9]+ /, ""); line[n] = $0 }
	END {
		root = at("^fresh: make demo"); kb = at("^kernel/build.sh"); ks = at("^kernel: building"); ke = at("^kernel: built")
		pb = at("cmd/podman$"); pe = after("mkinitramfs", pb); demo = at("^fresh: demo passed")
		ub = at("^go vet -tags"); ue = after("mkinitramfs", ub)
		mb = at("go run ./cmd/minio"); me = at("^minio: ")
		eb = mb; ee = at("^fresh: test passed"); if (ee < 0) ee = t[n]
		show("root", 0, root); show("debian packages", root, kb); show("kernel build", ks, ke)
		show("podman build", pb, pe); show("initramfs+demo", pe, demo); show("unit tests", ub, ue)
		show("minio build", mb, me); show("e2e tests", eb, ee); show("total", 0, t[n])
		print "fresh: (the MinIO build runs during the e2e tests, which wait for it)"
	}' "$log" | tee -a "$log"
if [ "$rc" = 0 ]; then echo "fresh: PASS ($root, log $log)"; else echo "fresh: FAIL, exit $rc ($root, log $log)"; fi
exit "$rc"
