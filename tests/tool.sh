#!/bin/bash
# The ipsec admin tool end to end against the module, run inside a test
# guest (UML or qemu) as PID 1's child.
#
#   tests/tool.sh <directory with klips.ko>
#
# What is expected comes from the contracts: /proc text written by hand from
# Documentation/klips/proc.md, and from Documentation/klips/cli.md the JSON
# members, look's and monitor's layouts, and the forms of usage errors and
# refusals. The clock fields (add(c,..), use(c,..), idle=) are replaced by T
# before comparing, and files whose line order the spec leaves open are
# sorted. Every failed command must print exactly one line on stderr (and
# nothing on stdout) and leave every table as it was. The tool is compared
# with /proc only while the tables have content: empty equals empty proves
# nothing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
mod=${1:?usage: tool.sh <module dir>}/klips.ko
I=$here/../tools/ipsec
tmp=$(mktemp -d)

# --- helpers -------------------------------------------------------------------

# A fresh random key of $1 bytes, in hex (Documentation/klips/design.md: every test run uses
# fresh keys, counter modes above all).
key() {
	local k=""
	[ "$1" -eq 0 ] || k=$(od -An -tx1 -v -w"$1" -N"$1" /dev/urandom)
	k=${k//[$' \n']/}
	echo "0x$k"
}
b64key() { echo "0s$(head -c "$1" /dev/urandom | base64 -w0)"; }

clock() { sed -E 's/(add|use)\([0-9]+,/\1(T,/g; s/idle=[0-9]+/idle=T/'; }
spi_now() { clock < /proc/net/ipsec_spi | sort; }

# Every table with its name, in its /proc order, clocks normalized: what
# "nothing changed" compares. One sed for all five files (-s: each file's
# own line 1 prints its name): a refusal check takes two snapshots, and
# under UML each process costs tens of milliseconds.
snapshot() {
	sed -s -E '1F; s/(add|use)\([0-9]+,/\1(T,/g; s/idle=[0-9]+/idle=T/' \
		/proc/net/ipsec_spi /proc/net/ipsec_eroute /proc/net/ipsec_spigrp \
		/proc/net/ipsec_tncfg /proc/net/ipsec_klipsdebug 2>/dev/null
}

# $1 as an extended regular expression that matches exactly that text.
ere() { sed 's/[][\.*^$+?(){}|/]/\\&/g' <<< "$1"; }
# A message's free part, its reason: one line, not empty.
reason=$'[^\n]+'

# The C library's words for the errnos that Documentation/klips/cli.md's refusals name:
# strerror[EINVAL] is "Invalid argument".
declare -A strerror
eval "$(python3 -c '
import errno, os
for name in ("EINVAL", "EOPNOTSUPP", "EEXIST", "ENOENT", "ENODEV", "ENOSPC", "EPERM"):
	print("strerror[%s]=%r" % (name, os.strerror(getattr(errno, name))))')"

# fails "what" <status> "<message>" args...: Documentation/klips/cli.md's usage errors (status
# 2) and local failures (1): ipsec exits with <status>, prints nothing on
# stdout and exactly the line "ipsec <command>: <message>" on stderr, and
# changes nothing.
fails() {
	local what=$1 status=$2 msg=$3 before out err rc
	shift 3
	before=$(snapshot)
	"$I" "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	out=$(< "$tmp/out") err=$(< "$tmp/err")
	[ -z "$out" ] || err+=$'\n'"(on stdout: $out)"
	[ "$(snapshot)" = "$before" ] || err+=$'\n(a table changed)'
	check_eq "$what" "exit $status: ipsec $1: $msg" "exit $rc: $err"
}

# refused "what" <ERRNO> "<subject>" args...: the kernel says no (Documentation/klips/cli.md,
# "Refusals"): exit 1, nothing on stdout, and on stderr the one line
# "ipsec <command>: kernel refused: <strerror(ERRNO)>: <subject>: <reason>",
# the subject being the option or object the contract names for this
# refusal; nothing changed. Warnings (tested apart) are dropped.
refused() {
	local what=$1 errno=$2 subject=$3 before out err rc
	shift 3
	before=$(snapshot)
	"$I" "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	out=$(< "$tmp/out") err=$(grep -v ': warning: ' "$tmp/err")
	[ -z "$out" ] || err+=$'\n'"(on stdout: $out)"
	[ "$(snapshot)" = "$before" ] || err+=$'\n(a table changed)'
	check_match "$what" \
		"^$(ere "exit 1: ipsec $1: kernel refused: ${strerror[$errno]}: $subject: ")$reason\$" \
		"exit $rc: $err"
}

# Documentation/klips/cli.md's --json members: name, type, present always (1) or on a
# condition (0), in the order the tool writes them.
read -r -d '' json_py <<'EOF'
import json, re, sys

kind, procf, jsonf = sys.argv[1:]
problems = []
bad = problems.append

COUNTERS = ("iv_bits ooowin ooo_errs seq max_seq_diff alen aklen auth_errs "
	    "eklen encr_size_errs encr_pad_errs").split()
LIFE = "alloc bytes add use packets".split()
AREAS = "tunnel xmit xform eroute spi radij esp ah rcv netlink comp".split()
INT, STR, OBJ, ARR, BOOL, STRNULL = ("integer", "string", "object", "array",
				     "boolean", "string or null")
MEMBERS = {
	"spi": [("said", STR, 1), ("xform", STR, 1), ("dir", STR, 1),
		("src", STR, 0), ("dst", STR, 0), ("policy", STR, 0),
		("state", STR, 1)] + [(c, INT, 1) for c in COUNTERS] +
	       [("bit", STR, 1), ("flags", STR, 1), ("life", OBJ, 1),
		("idle", INT, 0), ("ratio", OBJ, 0), ("natencap", STR, 0),
		("natsport", INT, 0), ("natdport", INT, 0), ("natoa", STR, 0)],
	"eroute": [("count", INT, 1), ("src", STR, 1), ("src_port", INT, 1),
		   ("dst", STR, 1), ("dst_port", INT, 1), ("proto", INT, 1),
		   ("said", STR, 1)],
	"spigrp": [("said", ARR, 1)],
	"tncfg": [("name", STR, 1), ("physical", STRNULL, 1), ("mtu", INT, 1),
		  ("effective_mtu", INT, 1), ("physical_mtu", INT, 1)],
	"klipsdebug": [("debug_" + a, BOOL, 1) for a in AREAS],
}

def typed(v, t):
	return {INT: type(v) is int and v >= 0, STR: type(v) is str,
		OBJ: type(v) is dict, ARR: type(v) is list,
		BOOL: type(v) is bool,
		STRNULL: v is None or type(v) is str}[t]

def pairs(kv):
	keys = [k for k, _ in kv]
	if len(set(keys)) != len(keys):
		bad("a member twice: %s" % keys)
	return dict(kv)

# The members of @o: only Documentation/klips/cli.md's, in its order, the required ones there,
# each of its type.
def members(where, o, spec):
	if type(o) is not dict:
		bad("%s: not an object: %s" % (where, json.dumps(o)))
		return False
	order = [m for m, _, _ in spec]
	keys = list(o)
	if [k for k in keys if k not in order]:
		bad("%s: members that Documentation/klips/cli.md does not list: %s" %
		    (where, [k for k in keys if k not in order]))
	if [k for k in keys if k in order] != sorted(
			[k for k in keys if k in order], key=order.index):
		bad("%s: members out of Documentation/klips/cli.md's order: %s" % (where, keys))
	ok = True
	for m, t, always in spec:
		if m not in o:
			if always:
				bad("%s: no %s" % (where, m))
				ok = False
		elif not typed(o[m], t):
			bad("%s: %s is %s, not a %s" % (where, m, json.dumps(o[m]), t))
			ok = False
	return ok

def differ(where, what, p, j):
	if p != j:
		bad("%s: %s: /proc says %r, the JSON %r" % (where, what, p, j))

objs = []
for n, text in enumerate(open(jsonf), 1):
	try:
		o = json.loads(text, object_pairs_hook=pairs)
	except ValueError as e:
		bad("JSON line %d: %s: %s" % (n, e, text.rstrip()))
		continue
	if members("JSON line %d" % n, o, MEMBERS[kind]):
		objs.append(o)
proc = [l.rstrip("\n") for l in open(procf)]
if not proc:
	bad("/proc/net/ipsec_%s is empty: nothing to compare" % kind)

def spi():
	sas = {}
	for l in proc:
		m = re.fullmatch(r"(\S+) (\S+): dir=(in|out) src=(\S+)(.*)", l)
		if not m:
			bad("not an ipsec_spi line: %s" % l)
			continue
		p = dict(zip(("said", "xform", "dir", "src"), m.groups()))
		for tok in m.group(5).split():
			if tok.startswith("life(c,s,h)="):
				p["life"] = {k: dict(c=int(c), s=int(s), h=int(h))
					     for k, c, s, h in re.findall(
						     r"(\w+)\((\d+),(\d+),(\d+)\)", tok)}
			else:
				k, _, v = tok.partition("=")
				p[k] = v
		sas[p["said"]] = p
	js = {}
	for o in objs:
		if o["said"] in js:
			bad("%s twice in the JSON" % o["said"])
		js[o["said"]] = o
	if set(sas) != set(js):
		bad("SAs only in /proc: %s; only in the JSON: %s" %
		    (sorted(set(sas) - set(js)), sorted(set(js) - set(sas))))
	for said in sorted(set(sas) & set(js)):
		p, o = sas[said], js[said]
		for k in ("xform", "dir"):
			differ(said, k, p[k], o[k])
		if "src" in o:
			differ(said, "src", p["src"], o["src"])
		elif p["src"] not in ("0.0.0.0", "::"):
			bad("%s: no src in the JSON, src=%s in /proc" % (said, p["src"]))
		differ(said, "dst (tun SAs only)", said.startswith("tun"), "dst" in o)
		differ(said, "policy", p.get("policy"), o.get("policy"))
		differ(said, "state", p.get("state", "mature"), o["state"])
		for c in COUNTERS:
			differ(said, c, int(p.get(c, 0)), o[c])
		for h in ("bit", "flags"):
			if not re.fullmatch(r"0x[0-9a-f]+", o[h]):
				bad("%s: %s is %r, not 0x<hex>" % (said, h, o[h]))
			else:
				differ(said, h, int(p.get(h, "0x0"), 16), int(o[h], 16))
		if not members(said + ": life", o["life"],
			       [(k, OBJ, 1) for k in LIFE]):
			continue
		for k in LIFE:
			if not members("%s: life: %s" % (said, k), o["life"][k],
				       [(x, INT, 1) for x in "csh"]):
				continue
			pv = dict(p.get("life", {}).get(k, dict(c=0, s=0, h=0)))
			jv = dict(o["life"][k])
			if k in ("add", "use"):	# ages: a second may tick between reads
				pv.pop("c")
				jv.pop("c")
			differ(said, "life " + k, pv, jv)
		differ(said, "idle there", "idle" in p, "idle" in o)
		differ(said, "ratio (comp SAs only)", said.startswith("comp"),
		       "ratio" in o)
		if "ratio" in o and members(said + ": ratio", o["ratio"],
					    [("d", INT, 1), ("c", INT, 1)]):
			differ(said, "ratio", p.get("ratio", "0:0"),
			       "%d:%d" % (o["ratio"]["d"], o["ratio"]["c"]))
		differ(said, "natencap", p.get("natencap"), o.get("natencap"))
		for k in ("natsport", "natdport"):
			differ(said, k, int(p[k]) if k in p else None, o.get(k))
		if "natoa" in o and "natencap" not in o:
			bad("%s: natoa without natencap" % said)

# "<net>/<len>[:<port>]" or "[<net>/<len>]:<port>" -> (prefix, port)
def selector(t):
	m = re.fullmatch(r"\[?([^][\s]+/\d+)\]?(?::(\d+))?", t)
	return (m.group(1), int(m.group(2) or 0)) if m else (t, None)

# "<SAID>[:<proto>]", "[<IPv6 SAID>]:<proto>" -> (SAID, proto)
def target(t):
	m = re.fullmatch(r"\[(.+)\]:(\d+)", t)
	if m:
		return m.group(1), int(m.group(2))
	if re.match(r"[a-z]+:", t):	# an IPv6 SAID: with a proto, bracketed
		return t, 0
	m = re.fullmatch(r"(.+?)(?::(\d+))?", t)
	return m.group(1), int(m.group(2) or 0)

def eroute():
	rows = []
	for l in proc:
		m = re.fullmatch(r"(\d+) +(\S+) +-> (\S+) +=> (\S+)", l)
		if not m:
			bad("not an ipsec_eroute line: %s" % l)
			continue
		rows.append((int(m.group(1)),) + selector(m.group(2)) +
			    selector(m.group(3)) + target(m.group(4))[::-1])
	got = [(o["count"], o["src"], o["src_port"], o["dst"], o["dst_port"],
		o["proto"], o["said"]) for o in objs]
	differ("eroutes, in order", "count src src_port dst dst_port proto said",
	       rows, got)

def spigrp():
	differ("groups", "SAIDs inner to outer",
	       sorted(l.split(" ") for l in proc),
	       sorted(o["said"] for o in objs))

def tncfg():
	rows = []
	for l in proc:
		m = re.fullmatch(r"(\S+) -> (\S+) mtu=(\d+)\((\d+)\) -> (\d+)", l)
		if not m:
			bad("not an ipsec_tncfg line: %s" % l)
			continue
		rows.append((m.group(1), None if m.group(2) == "NULL" else m.group(2),
			     int(m.group(3)), int(m.group(4)), int(m.group(5))))
	differ("devices, in order", "name physical mtu effective_mtu physical_mtu",
	       rows, [(o["name"], o["physical"], o["mtu"], o["effective_mtu"],
		       o["physical_mtu"]) for o in objs])

def klipsdebug():
	rows = [re.fullmatch(r"debug_(\w+)=([0-9a-f]{8})\.", l) for l in proc]
	if None in rows or len(objs) != 1:
		bad("%d objects, /proc: %s" % (len(objs), proc))
		return
	differ("klipsdebug", "areas", [(m.group(1), m.group(2) != "00000000")
				       for m in rows],
	       [(k[len("debug_"):], v) for k, v in objs[0].items()])

globals()[kind]()
print("\n".join(problems[:20]))
EOF

# check_json "what" <spi|eroute|spigrp|tncfg|klipsdebug>: `ipsec <kind>
# --json` has Documentation/klips/cli.md's members, in its order, of its types, and says what
# /proc/net/ipsec_<kind> says (read just before it; the clock fields
# aside). The table must have content.
check_json() {
	local kind=$2 problems
	cat "/proc/net/ipsec_$kind" > "$tmp/proc.$kind"
	"$I" "$kind" --json > "$tmp/json.$kind" 2>&1
	problems=$(python3 -c "$json_py" "$kind" "$tmp/proc.$kind" "$tmp/json.$kind" 2>&1)
	check_eq "$1" "" "$problems"
}

# wait_for <file> <ERE> <seconds>: until a line of the file matches, for at
# most that long; 1 if none did.
wait_for() {
	local deadline=$((SECONDS + $3))
	until grep -qE -- "$2" "$1" 2>/dev/null; do
		[ "$SECONDS" -le "$deadline" ] || return 1
		sleep 0.1
	done
}

# monitor_start <file>: runs ipsec monitor in the background, its stdout
# into <file> and stderr into <file>.err, its pid in $mon. The monitor says
# nothing once it has joined the events group (Documentation/klips/cli.md), so a probe SA is
# added and deleted until its add event shows up, for at most 10 s: one
# check. events <file> leaves the probe's lines out.
probe=esp.7fff@192.0.2.254
monitor_start() {
	local deadline=$((SECONDS + 10)) seen="not within 10 s"
	"$I" monitor > "$1" 2> "$1.err" &
	mon=$!
	while [ "$seen" != seen ] && [ "$SECONDS" -le "$deadline" ]; do
		"$I" spi --said $probe --src 192.0.2.2 --esp aes-sha1-96 \
			--enckey "$(key 16)" --authkey "$(key 20)"
		wait_for "$1" "^add $(ere $probe) " 1 && seen=seen
		"$I" spi --said $probe --del
	done
	[ "$seen" != seen ] || wait_for "$1" "^del $(ere $probe) " 5 ||
		seen="its del event did not come"
	check_eq "monitor: listening (a probe SA's add event seen)" seen "$seen"
}
events() { grep -vF " $probe " "$1"; }

# --- the data of the loops below ------------------------------------------------------
# Every algorithm of Documentation/klips/cli.md, added in both address families below:
# proto|name|enckey bytes|authkey bytes|XFORM|fields between src= and life(c,s,h)
# (Documentation/klips/proc.md's table: iv_bits, alen, aklen, eklen; dir=out as the
# destinations are not local, so no ooowin).
algs="esp|3des-md5-96|24|16|ESP_3DES_HMAC_MD5|iv_bits=64 alen=128 aklen=128 eklen=192
esp|3des-sha1-96|24|20|ESP_3DES_HMAC_SHA1|iv_bits=64 alen=160 aklen=160 eklen=192
esp|aes-sha1-96|16|20|ESP_AES_HMAC_SHA1|iv_bits=128 alen=160 aklen=160 eklen=128
esp|aes-sha1-96|24|20|ESP_AES_HMAC_SHA1|iv_bits=128 alen=160 aklen=160 eklen=192
esp|aes-sha1-96|32|20|ESP_AES_HMAC_SHA1|iv_bits=128 alen=160 aklen=160 eklen=256
esp|aes128-sha1-96|16|20|ESP_AES_HMAC_SHA1|iv_bits=128 alen=160 aklen=160 eklen=128
esp|aes192-sha2_384-192|24|48|ESP_AES_HMAC_SHA2_384|iv_bits=128 alen=384 aklen=384 eklen=192
esp|aes256-sha2_256-128|32|32|ESP_AES_HMAC_SHA2_256|iv_bits=128 alen=256 aklen=256 eklen=256
esp|aes-sha2_512-256|32|64|ESP_AES_HMAC_SHA2_512|iv_bits=128 alen=512 aklen=512 eklen=256
esp|aes-md5-96|16|16|ESP_AES_HMAC_MD5|iv_bits=128 alen=128 aklen=128 eklen=128
esp|aesctr-sha2_256-128|20|32|ESP_AES_CTR_HMAC_SHA2_256|iv_bits=64 alen=256 aklen=256 eklen=128
esp|aes128ctr-sha1-96|20|20|ESP_AES_CTR_HMAC_SHA1|iv_bits=64 alen=160 aklen=160 eklen=128
esp|aes256ctr-sha2_512-256|36|64|ESP_AES_CTR_HMAC_SHA2_512|iv_bits=64 alen=512 aklen=512 eklen=256
esp|null-sha1-96|0|20|ESP_NULL_HMAC_SHA1|alen=160 aklen=160
esp|3des|24|0|ESP_3DES|iv_bits=64 eklen=192
esp|aes|32|0|ESP_AES|iv_bits=128 eklen=256
esp|aes-gcm-8|20|0|ESP_AES_GCM_8|iv_bits=64 alen=64 eklen=128
esp|aes-gcm-12|28|0|ESP_AES_GCM_12|iv_bits=64 alen=96 eklen=192
esp|aes-gcm-16|36|0|ESP_AES_GCM_16|iv_bits=64 alen=128 eklen=256
esp|aes128gcm16|20|0|ESP_AES_GCM_16|iv_bits=64 alen=128 eklen=128
esp|aes256gcm16|36|0|ESP_AES_GCM_16|iv_bits=64 alen=128 eklen=256
esp|aes-ccm-8|19|0|ESP_AES_CCM_8|iv_bits=64 alen=64 eklen=128
esp|aes-ccm-12|27|0|ESP_AES_CCM_12|iv_bits=64 alen=96 eklen=192
esp|aes-ccm-16|35|0|ESP_AES_CCM_16|iv_bits=64 alen=128 eklen=256
esp|chacha20poly1305|36|0|ESP_CHACHA20_POLY1305|iv_bits=64 alen=128 eklen=256
esp|null-aes-gmac|20|0|ESP_NULL_AES_GMAC|iv_bits=64 alen=128 eklen=128
ah|hmac-md5-96|0|16|AH_HMAC_MD5|alen=128 aklen=128
ah|hmac-sha1-96|0|20|AH_HMAC_SHA1|alen=160 aklen=160
ah|hmac-sha2_256-128|0|32|AH_HMAC_SHA2_256|alen=256 aklen=256
ah|hmac-sha2_384-192|0|48|AH_HMAC_SHA2_384|alen=384 aklen=384
ah|hmac-sha2_512-256|0|64|AH_HMAC_SHA2_512|alen=512 aklen=512
ah|aes-xcbc-96|0|16|AH_AES_XCBC_MAC|alen=128 aklen=128
ah|aes-cmac-96|0|16|AH_AES_CMAC|alen=128 aklen=128
comp|deflate|0|0|COMP_DEFLATE|
tun|ip|0|0|IPIP|"
helps="spi eroute spigrp tncfg klipsdebug look monitor"	# the commands with --help

# The checks outside loops, then the loops': two listings compared at load,
# --help of each command, an add per algorithm and family, four deletes by
# SAID; the kmemleak scan.
plan $((315 + 2 + $(wc -w <<< "$helps") + 2 * $(grep -c . <<< "$algs") + 4 + KMEMLEAK))

kmemleak_clear

# --- load, version, listings, help ------------------------------------------------
check "insmod klips.ko" klips_insmod "$mod"
version=$(modinfo -F version "$mod")
check_eq "ipsec version: the tool's and the module's" \
"ipsec tool version: $version
klips version: $version" "$("$I" version 2>&1)"
check_eq "ipsec --version is ipsec version" "$("$I" version)" "$("$I" --version)"
# spi, eroute and spigrp are empty at load: they are compared with /proc
# below, once they have content.
for f in tncfg klipsdebug; do
	check_eq "ipsec $f prints /proc/net/ipsec_$f byte for byte" \
		"$(od -c /proc/net/ipsec_$f)" "$("$I" $f | od -c)"
done
check_json "tncfg --json agrees with ipsec_tncfg" tncfg
check_json "klipsdebug --json agrees with ipsec_klipsdebug" klipsdebug
check_eq "no SAs, eroutes or groups at load" "" \
	"$("$I" spi; "$I" eroute; "$I" spigrp)"
check_eq "spi --json with no SAs prints nothing" "" "$("$I" spi --json 2>&1)"
commands="spi eroute spigrp tncfg klipsdebug look version monitor"	# Documentation/klips/cli.md's
for c in $helps; do
	out=$("$I" $c --help 2>/dev/null)
	check_match "ipsec $c --help: exit 0, usage on stdout" "^0 usage: ipsec $c" \
		"$? ${out%%$'\n'*}"
done
check_match "ipsec --help: exit 0" "^usage: ipsec <command>" "$("$I" --help | head -1)"
# Documentation/klips/cli.md: no command is a usage error, with the command list on stderr.
"$I" > "$tmp/out" 2> "$tmp/err"
rc=$?
missing=
for c in $commands; do
	grep -qE "^  $c " "$tmp/err" || missing+=" $c"
done
check_eq "no command: exit 2, usage with every command on stderr, nothing on stdout" \
	"exit 2, usage: ipsec <command>, missing:, stdout: " \
	"exit $rc, $(head -c 22 "$tmp/err"), missing:$missing, stdout: $(cat "$tmp/out")"
"$I" frobnicate > "$tmp/out" 2> "$tmp/err"
check_eq "unknown command: exit 2" "exit 2: ipsec: unknown command 'frobnicate'" \
	"exit $?: $(cat "$tmp/err" "$tmp/out")"

# --- spi: every algorithm of Documentation/klips/cli.md ($algs), both address families ---------------------
keys_used=$tmp/keys
: > "$keys_used"
expected=
n=0
added=()	# the SAIDs, for deleting them one by one
while IFS='|' read -r proto name eb ab xform fields; do
	for fam in inet inet6; do
		n=$((n + 1))
		spi=$((0x1000 + n))
		if [ $fam = inet ]; then
			dst=192.0.2.1 src=192.0.2.2 sep=.
		else
			dst=2001:db8::1 src=2001:db8::2 sep=:
		fi
		said=$(printf '%s%s%x@%s' "$proto" "$sep" "$spi" "$dst")
		# IPv4 by --said, IPv6 by --af/--edst/--spi (decimal)/--proto.
		if [ $fam = inet ]; then
			sa=(--said "$said")
		else
			sa=(--af inet6 --edst "$dst" --spi "$spi" --proto "$proto")
		fi
		args=(--src "$src")
		case $proto in
		esp) args+=(--esp "$name") ;;
		ah) args+=(--ah "$name") ;;
		comp) args+=(--comp "$name") ;;
		tun) args+=(--dst "$dst"); [ $fam = inet ] && args+=(--ip4) || args+=(--ip6) ;;
		esac
		if [ "$eb" -gt 0 ]; then
			k=$(key "$eb"); echo "${k#0x}" >> "$keys_used"; args+=(--enckey "$k")
		fi
		if [ "$ab" -gt 0 ]; then
			k=$(key "$ab"); echo "${k#0x}" >> "$keys_used"; args+=(--authkey "$k")
		fi
		label=$name
		[ "$eb" -gt 0 ] && label+=", $eb-byte key"
		check "spi add $said ($label)" "$I" spi "${sa[@]}" "${args[@]}"
		added+=("$said")
		expected+="$said $xform: dir=out src=$src ${fields:+$fields }life(c,s,h)=add(T,0,0)
"
	done
done <<< "$algs"
check_eq "ipsec_spi: every algorithm, both families, as Documentation/klips/proc.md prints them" \
	"$(printf '%s' "$expected" | sort)" "$(spi_now)"
# Two reads, a clock tick apart on a slow machine: compare without the clocks.
check_eq "ipsec spi prints /proc/net/ipsec_spi byte for byte (clocks aside)" \
	"$(clock < /proc/net/ipsec_spi | od -c)" "$("$I" spi | clock | od -c)"
check_json "spi --json: Documentation/klips/cli.md's members, agreeing with ipsec_spi (every algorithm)" spi
check_match "spi --json: a tun SA has its outer dst" \
	'"said":"tun:[0-9a-f]+@2001:db8::1","xform":"IPIP","dir":"out","src":"2001:db8::2","dst":"2001:db8::1"' \
	"$("$I" spi --json | grep '"tun:')"
leaks=
while read -r k; do
	if grep -qi "$k" /proc/net/ipsec_spi || "$I" spi --json | grep -qi "$k"; then
		leaks+=" $k"
	fi
done < "$keys_used"
check_eq "no key appears in ipsec_spi or the JSON dump" "" "$leaks"

for said in "${added[@]:0:4}"; do
	check "spi --said $said --del" "$I" spi --said "$said" --del
done
check "spi --af inet6 --edst 2001:db8::1 --spi 0x1006 --proto esp --del" \
	"$I" spi --af inet6 --edst 2001:db8::1 --spi 0x1006 --proto esp --del
check_eq "the deleted SAs are gone, the others stay" \
	"$(printf '%s' "$expected" | grep -v -e '^esp.1001@' -e '^esp:1002@' -e '^esp.1003@' -e '^esp:1004@' -e '^esp:1006@' | sort)" \
	"$(spi_now)"
check "spi --clear" "$I" spi --clear
check_eq "spi --clear: ipsec_spi is empty" "" "$(cat /proc/net/ipsec_spi)"

# --- spi: the optional fields -----------------------------------------------------------
ip addr add 192.0.2.99/32 dev lo
ip addr add 2001:db8::99/128 dev lo nodad
check "an SA to a local address (inbound)" "$I" spi --said esp.2001@192.0.2.99 \
	--src 192.0.2.2 --esp aes-sha1-96 --enckey "$(key 16)" --authkey "$(key 20)"
check "... with --replay_window 4096" "$I" spi --said esp.2002@192.0.2.99 \
	--src 192.0.2.2 --esp aes-sha1-96 --enckey "$(key 16)" --authkey "$(key 20)" \
	--replay_window 4096
check "... with --replay_window 0" "$I" spi --said esp.2003@192.0.2.99 \
	--src 192.0.2.2 --esp aes-sha1-96 --enckey "$(key 16)" --authkey "$(key 20)" \
	--replay_window 0
check "... IPv6, AEAD, --esn" "$I" spi --said esp:2004@2001:db8::99 \
	--src 2001:db8::2 --esp aes-gcm-16 --enckey "$(key 20)" --esn
check "... cipher alone: no replay window" "$I" spi --said esp.2005@192.0.2.99 \
	--src 192.0.2.2 --esp aes --enckey "$(key 16)"
check "--dir out on a local destination" "$I" spi --said esp.2006@192.0.2.99 \
	--src 192.0.2.2 --esp aes-sha1-96 --enckey "$(key 16)" --authkey "$(key 20)" \
	--dir out
check "--dir in on a remote destination" "$I" spi --said ah.2007@192.0.2.1 \
	--src 192.0.2.2 --ah hmac-sha1-96 --authkey "$(key 20)" --dir in
check "every lifetime limit" "$I" spi --said esp.2008@192.0.2.1 --src 192.0.2.2 \
	--esp aes-sha1-96 --enckey "$(key 16)" --authkey "$(key 20)" \
	--life soft-bytes=1000,hard-bytes=2000,soft-addtime=100,hard-addtime=200,soft-usetime=30,hard-usetime=60,soft-packets=5,hard-packets=10,soft-allocations=1,hard-allocations=2
check "NAT-T: --natt nonesp --sport --dport --natoa" "$I" spi --said esp.2009@192.0.2.1 \
	--src 192.0.2.2 --esp aes-sha1-96 --enckey "$(key 16)" --authkey "$(key 20)" \
	--natt nonesp --sport 4500 --dport 4501 --natoa 10.0.0.1
check "IPComp with the well-known CPI 2" "$I" spi --said comp.2@192.0.2.1 \
	--src 192.0.2.2 --comp deflate
check "a tun SA to a local address" "$I" spi --said tun:200a@2001:db8::99 \
	--src 2001:db8::2 --dst 2001:db8::99 --ip6
check_eq "ipsec_spi: dir, ooowin, flags, lifetimes, natencap as Documentation/klips/proc.md prints them" \
"$(sort <<'EOF'
esp.2001@192.0.2.99 ESP_AES_HMAC_SHA1: dir=in src=192.0.2.2 iv_bits=128 ooowin=64 alen=160 aklen=160 eklen=128 life(c,s,h)=add(T,0,0)
esp.2002@192.0.2.99 ESP_AES_HMAC_SHA1: dir=in src=192.0.2.2 iv_bits=128 ooowin=4096 alen=160 aklen=160 eklen=128 life(c,s,h)=add(T,0,0)
esp.2003@192.0.2.99 ESP_AES_HMAC_SHA1: dir=in src=192.0.2.2 iv_bits=128 alen=160 aklen=160 eklen=128 life(c,s,h)=add(T,0,0)
esp:2004@2001:db8::99 ESP_AES_GCM_16: dir=in src=2001:db8::2 iv_bits=64 ooowin=64 flags=0x100 alen=128 eklen=128 life(c,s,h)=add(T,0,0)
esp.2005@192.0.2.99 ESP_AES: dir=in src=192.0.2.2 iv_bits=128 eklen=128 life(c,s,h)=add(T,0,0)
esp.2006@192.0.2.99 ESP_AES_HMAC_SHA1: dir=out src=192.0.2.2 iv_bits=128 alen=160 aklen=160 eklen=128 life(c,s,h)=add(T,0,0)
ah.2007@192.0.2.1 AH_HMAC_SHA1: dir=in src=192.0.2.2 ooowin=64 alen=160 aklen=160 life(c,s,h)=add(T,0,0)
esp.2008@192.0.2.1 ESP_AES_HMAC_SHA1: dir=out src=192.0.2.2 iv_bits=128 alen=160 aklen=160 eklen=128 life(c,s,h)=alloc(0,1,2)bytes(0,1000,2000)add(T,100,200)use(T,30,60)packets(0,5,10)
esp.2009@192.0.2.1 ESP_AES_HMAC_SHA1: dir=out src=192.0.2.2 iv_bits=128 alen=160 aklen=160 eklen=128 life(c,s,h)=add(T,0,0) natencap=nonesp natsport=4500 natdport=4501
comp.2@192.0.2.1 COMP_DEFLATE: dir=out src=192.0.2.2 life(c,s,h)=add(T,0,0)
tun:200a@2001:db8::99 IPIP: dir=in src=2001:db8::2 life(c,s,h)=add(T,0,0)
EOF
)" "$(spi_now)"
check_json "spi --json agrees with ipsec_spi (windows, ESN, lifetimes, NAT-T)" spi
check_match "spi --json: --natoa, which /proc does not show" '"natoa":"10\.0\.0\.1"\}$' \
	"$("$I" spi --json | grep '"esp.2009@')"
check "spi --clear" "$I" spi --clear

# --- keys: the three notations --------------------------------------------------------
k=$(key 16)
printf '%s\n' "$k" > "$tmp/enckey"
chmod 600 "$tmp/enckey"
b64key 20 > "$tmp/authkey"
check "--enckey @file (hex), --authkey @file (base64)" "$I" spi \
	--said esp.3001@192.0.2.1 --src 192.0.2.2 --esp aes-sha1-96 \
	--enckey "@$tmp/enckey" --authkey "@$tmp/authkey"
check "--enckey 0s<base64> inline" "$I" spi --said esp.3002@192.0.2.1 \
	--src 192.0.2.2 --esp aes256-sha1-96 --enckey "$(b64key 32)" \
	--authkey "$(key 20)"
check "--enckey 0x with '_' separators, as KLIPS wrote keys" "$I" spi \
	--said esp.3003@192.0.2.1 --src 192.0.2.2 --esp 3des \
	--enckey 0x0123456789abcdef_0123456789abcdef_0123456789abcdef
check_eq "the keys have the right lengths in ipsec_spi" \
"esp.3001@192.0.2.1 ESP_AES_HMAC_SHA1: dir=out src=192.0.2.2 iv_bits=128 alen=160 aklen=160 eklen=128 life(c,s,h)=add(T,0,0)
esp.3002@192.0.2.1 ESP_AES_HMAC_SHA1: dir=out src=192.0.2.2 iv_bits=128 alen=160 aklen=160 eklen=256 life(c,s,h)=add(T,0,0)
esp.3003@192.0.2.1 ESP_3DES: dir=out src=192.0.2.2 iv_bits=64 eklen=192 life(c,s,h)=add(T,0,0)" \
	"$(spi_now)"
check "spi --clear" "$I" spi --clear

# --- warnings (Documentation/klips/cli.md): counter modes keyed by hand, deprecated suites ------------------
warn_of() {	# the stderr of a successful add
	local out
	out=$("$I" spi --src 192.0.2.2 "$@" 2>&1 >/dev/null) || echo "(failed)"
	printf '%s\n' "$out"
}
check_eq "aes-gcm-16: the nonce-reuse warning" \
	"ipsec spi: warning: --esp aes-gcm-16: a counter-mode algorithm keyed by hand reuses nonces if this SA is ever added again with the same key" \
	"$(warn_of --said esp.4001@192.0.2.1 --esp aes-gcm-16 --enckey "$(key 20)")"
check_eq "aesctr-md5-96: nonce reuse and MD5" \
"ipsec spi: warning: --esp aesctr-md5-96: a counter-mode algorithm keyed by hand reuses nonces if this SA is ever added again with the same key
ipsec spi: warning: --esp aesctr-md5-96: deprecated (MD5)" \
	"$(warn_of --said esp.4002@192.0.2.1 --esp aesctr-md5-96 --enckey "$(key 20)" --authkey "$(key 16)")"
check_eq "3des-md5-96: deprecated (3DES, MD5)" \
	"ipsec spi: warning: --esp 3des-md5-96: deprecated (3DES, MD5)" \
	"$(warn_of --said esp.4003@192.0.2.1 --esp 3des-md5-96 --enckey "$(key 24)" --authkey "$(key 16)")"
check_eq "aes alone: deprecated (no integrity)" \
	"ipsec spi: warning: --esp aes: deprecated (no integrity)" \
	"$(warn_of --said esp.4004@192.0.2.1 --esp aes --enckey "$(key 16)")"
check_eq "3des alone: deprecated (3DES, no integrity)" \
	"ipsec spi: warning: --esp 3des: deprecated (3DES, no integrity)" \
	"$(warn_of --said esp.4005@192.0.2.1 --esp 3des --enckey "$(key 24)")"
check_eq "--ah hmac-md5-96: deprecated (MD5)" \
	"ipsec spi: warning: --ah hmac-md5-96: deprecated (MD5)" \
	"$(warn_of --said ah.4006@192.0.2.1 --ah hmac-md5-96 --authkey "$(key 16)")"
check_eq "aes-sha2_256-128: no warning" "" \
	"$(warn_of --said esp.4007@192.0.2.1 --esp aes-sha2_256-128 --enckey "$(key 16)" --authkey "$(key 32)")"
check "spi --clear" "$I" spi --clear

# --- spi: what the kernel refuses -------------------------------------------------------
check "an SA to collide with" "$I" spi --said esp.5000@192.0.2.1 --src 192.0.2.2 \
	--esp aes-sha1-96 --enckey "$(key 16)" --authkey "$(key 20)"
add=(spi --src 192.0.2.2)
refused "the same SAID again" EEXIST SAID "${add[@]}" \
	--said esp.5000@192.0.2.1 --esp aes-sha1-96 --enckey "$(key 16)" --authkey "$(key 20)"
refused "aes with a 120-bit key" EINVAL --enckey "${add[@]}" \
	--said esp.5001@192.0.2.1 --esp aes-sha1-96 --enckey "$(key 15)" --authkey "$(key 20)"
refused "aes128 with a 256-bit key" EINVAL --enckey "${add[@]}" \
	--said esp.5001@192.0.2.1 --esp aes128-sha1-96 --enckey "$(key 32)" --authkey "$(key 20)"
refused "3des with a 128-bit key" EINVAL --enckey "${add[@]}" \
	--said esp.5001@192.0.2.1 --esp 3des-sha1-96 --enckey "$(key 16)" --authkey "$(key 20)"
refused "aes-gcm-16 without its salt" EINVAL --enckey "${add[@]}" \
	--said esp.5001@192.0.2.1 --esp aes-gcm-16 --enckey "$(key 16)"
refused "aes-ccm-8 with a 32-bit (not 24-bit) salt" EINVAL --enckey "${add[@]}" \
	--said esp.5001@192.0.2.1 --esp aes-ccm-8 --enckey "$(key 20)"
refused "chacha20poly1305 without its salt" EINVAL --enckey "${add[@]}" \
	--said esp.5001@192.0.2.1 --esp chacha20poly1305 --enckey "$(key 32)"
refused "sha1-96 with a 128-bit key" EINVAL --authkey "${add[@]}" \
	--said esp.5001@192.0.2.1 --esp aes-sha1-96 --enckey "$(key 16)" --authkey "$(key 16)"
refused "aes-sha1-96 without --authkey" EINVAL --authkey "${add[@]}" \
	--said esp.5001@192.0.2.1 --esp aes-sha1-96 --enckey "$(key 16)"
refused "an AEAD with an --authkey" EINVAL --authkey "${add[@]}" \
	--said esp.5001@192.0.2.1 --esp aes-gcm-16 --enckey "$(key 20)" --authkey "$(key 20)"
refused "null alone" EINVAL --esp "${add[@]}" \
	--said esp.5001@192.0.2.1 --esp null
refused "aesctr alone" EINVAL --esp "${add[@]}" \
	--said esp.5001@192.0.2.1 --esp aesctr --enckey "$(key 20)"
refused "an unknown --esp name" EOPNOTSUPP --esp "${add[@]}" \
	--said esp.5001@192.0.2.1 --esp twofish-sha1-96 --enckey "$(key 16)" --authkey "$(key 20)"
refused "an AEAD with an integrity part" EOPNOTSUPP --esp "${add[@]}" \
	--said esp.5001@192.0.2.1 --esp aes-gcm-16-sha1-96 --enckey "$(key 20)" --authkey "$(key 20)"
refused "an unknown --ah name" EOPNOTSUPP --ah "${add[@]}" \
	--said ah.5001@192.0.2.1 --ah sha1-96 --authkey "$(key 20)"
refused "hmac-sha2_256-128 with a 160-bit key" EINVAL --authkey "${add[@]}" \
	--said ah.5001@192.0.2.1 --ah hmac-sha2_256-128 --authkey "$(key 20)"
refused "an unknown --comp name" EOPNOTSUPP --comp "${add[@]}" \
	--said comp.5001@192.0.2.1 --comp lzs
refused "SPI 0xff: reserved" EINVAL SAID "${add[@]}" \
	--said esp.ff@192.0.2.1 --esp aes-sha1-96 --enckey "$(key 16)" --authkey "$(key 20)"
refused "SPI 0: reserved" EINVAL SAID "${add[@]}" \
	--af inet --edst 192.0.2.1 --spi 0 --proto ah --ah hmac-sha1-96 --authkey "$(key 20)"
refused "a CPI above 0xffff" EINVAL SAID "${add[@]}" \
	--said comp.10000@192.0.2.1 --comp deflate
refused "a shunt is no SA" EINVAL SAID "${add[@]}" --said %drop
refused "a replay window without integrity" EINVAL --replay_window "${add[@]}" \
	--said esp.5001@192.0.2.99 --esp aes --enckey "$(key 16)" --replay_window 32
refused "a replay window above 4096" EINVAL --replay_window "${add[@]}" \
	--said esp.5001@192.0.2.99 --esp aes-sha1-96 --enckey "$(key 16)" --authkey "$(key 20)" \
	--replay_window 1000000
refused "a soft limit above the hard one" EINVAL --life "${add[@]}" \
	--said esp.5001@192.0.2.1 --esp aes-sha1-96 --enckey "$(key 16)" --authkey "$(key 20)" \
	--life soft-bytes=2000,hard-bytes=1000
refused "deleting an SA that does not exist" ENOENT SAID \
	spi --said esp.5002@192.0.2.1 --del
check_eq "... and the first SA is still there, alone" \
	"esp.5000@192.0.2.1 ESP_AES_HMAC_SHA1: dir=out src=192.0.2.2 iv_bits=128 alen=160 aklen=160 eklen=128 life(c,s,h)=add(T,0,0)" \
	"$(spi_now)"

# --- spi: usage errors (Documentation/klips/cli.md: the tool's own, exit 2, the option named) -------------------
fails "unknown option" 2 "--enckeys: unknown option" spi --enckeys 0x00
fails "option without its value" 2 "--spi: needs a value" spi --af inet --spi
fails "option given twice" 2 "--src: given twice" spi --src 1.2.3.4 --src 1.2.3.5
fails "a word where an option belongs" 2 "'esp': unexpected argument" spi esp
fails "a stray key is not echoed" 2 "unexpected argument (not shown: it may be a key)" \
	spi --said esp.5001@192.0.2.1 --src 192.0.2.2 --esp aes --enckey "$(key 16)" "$(key 16)"
fails "a flag with a value" 2 "--del: takes no value" spi --del=yes
fails "--said and --af together" 2 "--af: not with --said" \
	spi --said esp.5000@192.0.2.1 --af inet --del
fails "bad SAID: the part at fault" 2 \
	"--said: esp.5000@192.0.2: SAID: bad IPv4 destination" \
	spi --said esp.5000@192.0.2 --del
fails "bad SAID: SPI not hex" 2 \
	"--said: esp.50g0@192.0.2.1: SAID: SPI is not hexadecimal" \
	spi --said esp.50g0@192.0.2.1 --del
fails "bad SAID: '.' with IPv6" 2 \
	"--said: esp.5000@2001:db8::1: SAID: '.' needs an IPv4 destination" \
	spi --said esp.5000@2001:db8::1 --del
fails "no SA" 2 "no SA given: --said <SAID>, or --af --edst --spi --proto" \
	spi --del
fails "--proto missing" 2 "--proto: missing" \
	spi --af inet --edst 192.0.2.1 --spi 0x5000 --del
fails "--spi not a number" 2 "--spi: '5000h' is not a number (0x<hex> or decimal)" \
	spi --af inet --edst 192.0.2.1 --spi 5000h --proto esp --del
fails "--spi above 32 bits" 2 "--spi: '0x100000000' is out of range" \
	spi --af inet --edst 192.0.2.1 --spi 0x100000000 --proto esp --del
fails "--af unknown" 2 "--af: 'inet4' is not inet or inet6" \
	spi --af inet4 --edst 192.0.2.1 --spi 0x5000 --proto esp --del
fails "--edst of the other family" 2 "--edst: '192.0.2.1' is not an inet6 address" \
	spi --af inet6 --edst 192.0.2.1 --spi 0x5000 --proto esp --del
fails "--edst a host name" 2 "--edst: 'localhost' is not an IP address" \
	spi --af inet --edst localhost --spi 0x5000 --proto esp --del
fails "--proto unknown" 2 "--proto: 'ipip' is not ah, esp, tun or comp" \
	spi --af inet --edst 192.0.2.1 --spi 0x5000 --proto ipip --del
fails "two actions" 2 "--clear: not with --del" spi --del --clear
fails "--clear takes nothing else" 2 "--said: not with --clear" \
	spi --clear --said esp.5000@192.0.2.1
fails "--del takes only the SA" 2 "--src: not with --del" \
	spi --said esp.5000@192.0.2.1 --del --src 192.0.2.2
fails "--esp on an ah SA" 2 "--esp: not for ah SAs" \
	"${add[@]}" --said ah.5001@192.0.2.1 --esp aes-sha1-96
fails "--enckey on an ah SA" 2 "--enckey: not for ah SAs" \
	"${add[@]}" --said ah.5001@192.0.2.1 --ah hmac-sha1-96 --enckey 0x00
fails "--esp missing on an esp SA" 2 "--esp: missing" \
	"${add[@]}" --said esp.5001@192.0.2.1
fails "--src missing" 2 "--src: missing" \
	spi --said esp.5001@192.0.2.1 --esp aes
fails "--src of the other family" 2 "--src: '2001:db8::2' is not an inet address" \
	spi --said esp.5001@192.0.2.1 --esp aes --src 2001:db8::2
fails "tun SA without --ip4/--ip6" 2 "--ip4 or --ip6: missing" \
	"${add[@]}" --said tun.5001@192.0.2.1 --dst 192.0.2.1
fails "tun SA without --dst" 2 "--dst: missing" \
	"${add[@]}" --said tun.5001@192.0.2.1 --ip4
fails "--ip6 on an IPv4 SA" 2 "--ip6: the SA's destination is an inet address" \
	"${add[@]}" --said tun.5001@192.0.2.1 --ip6 --dst 2001:db8::1
fails "--dst on an esp SA" 2 "--dst: not for esp SAs" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes --dst 192.0.2.1
fails "--enckey: not hex" 2 "--enckey: not hex after 0x" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes --enckey 0x00112233445566778899aabbccddeefg
fails "--enckey: odd length" 2 "--enckey: odd number of hex digits" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes --enckey 0x00112233445566778899aabbccddeef
fails "--enckey: not base64" 2 "--enckey: not base64 after 0s" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes --enckey '0sAAEC*wQF'
fails "--authkey: no notation" 2 "--authkey: a key is 0x<hex>, 0s<base64> or @<file>" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes-sha1-96 --enckey "$(key 16)" --authkey 0011
fails "--enckey: longer than KLIPS_KEY_MAX" 2 "--enckey: longer than 64 bytes" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes --enckey "$(key 65)"
fails "--enckey @file that does not exist: exit 1" 1 \
	"--enckey: @$tmp/nokey: No such file or directory" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes --enckey "@$tmp/nokey"
printf 'secret\n' > "$tmp/badkey"
fails "--enckey @file without a notation" 2 \
	"--enckey: a key is 0x<hex>, 0s<base64> or @<file>" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes --enckey "@$tmp/badkey"
fails "--life: unknown limit" 2 \
	"--life: 'soft-octets=1': unknown limit (allocations, bytes, addtime, usetime, packets)" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes --life soft-octets=1
fails "--life: neither soft nor hard" 2 "--life: 'firm-bytes=1': not soft or hard" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes --life firm-bytes=1
fails "--life: no value" 2 "--life: 'hard-bytes' is not <soft|hard>-<limit>=<n>" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes --life hard-bytes
fails "--life: not a number" 2 "--life hard-bytes: '1k' is not a number (0x<hex> or decimal)" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes --life hard-bytes=1k
fails "--life: a limit twice" 2 "--life soft-bytes: given twice" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes --life soft-bytes=1,soft-bytes=2
fails "--dir: neither in nor out" 2 "--dir: 'both' is not in or out" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes --dir both
fails "--replay_window: not a number" 2 \
	"--replay_window: 'lots' is not a number (0x<hex> or decimal)" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes --replay_window lots
fails "--natt: unknown" 2 "--natt: 'udp' is not nonesp or none" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes --natt udp
fails "--natt nonesp without --dport" 2 \
	"--dport: missing (--natt nonesp needs --sport and --dport)" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes --natt nonesp --sport 4500
fails "--sport without --natt" 2 "--sport: only with --natt nonesp" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes --sport 4500
fails "--esn on a comp SA" 2 "--esn: not for comp SAs" \
	"${add[@]}" --said comp.5001@192.0.2.1 --comp deflate --esn
fails "--natt on an ah SA" 2 "--natt: not for ah SAs" \
	"${add[@]}" --said ah.5001@192.0.2.1 --ah hmac-sha1-96 --natt nonesp
fails "--range without --getspi" 2 "--range: only with --getspi" \
	"${add[@]}" --said esp.5001@192.0.2.1 --esp aes --range 1-2
fails "--json takes nothing else" 2 "--del: not with --json" spi --json --del

# --- getspi --------------------------------------------------------------------------------
check_eq "getspi in a one-SPI range prints that SAID" "esp.6000@192.0.2.1" \
	"$("$I" spi --getspi --af inet --edst 192.0.2.1 --proto esp --range 0x6000-0x6000 2>&1)"
check_match "... a larval SA (state=larval)" '^esp\.6000@192\.0\.2\.1 .*state=larval' \
	"$(grep '^esp.6000@' /proc/net/ipsec_spi)"
check_json "... spi --json agrees with ipsec_spi (state larval, no source address)" spi
refused "getspi when the range is used up" ENOSPC --range \
	spi --getspi --af inet --edst 192.0.2.1 --proto esp --range 0x6000-0x6000
check "filling in the larval SA by adding its SAID" "$I" spi --said esp.6000@192.0.2.1 \
	--src 192.0.2.2 --esp aes-sha1-96 --enckey "$(key 16)" --authkey "$(key 20)"
check_eq "... an update: one mature SA" \
	"esp.6000@192.0.2.1 ESP_AES_HMAC_SHA1: dir=out src=192.0.2.2 iv_bits=128 alen=160 aklen=160 eklen=128 life(c,s,h)=add(T,0,0)" \
	"$(spi_now | grep '^esp.6000@')"
refused "getspi for a tun SA" EINVAL --getspi \
	spi --getspi --af inet --edst 192.0.2.1 --proto tun
refused "getspi range below 0x100" EINVAL --range \
	spi --getspi --af inet --edst 192.0.2.1 --proto esp --range 1-0xff
fails "getspi: --spi is not for getspi" 2 "--spi: not with --getspi" \
	spi --getspi --af inet --edst 192.0.2.1 --proto esp --spi 0x6001
fails "getspi: range backwards" 2 "--range: '0x7000-0x6000': low end above high end" \
	spi --getspi --af inet --edst 192.0.2.1 --proto esp --range 0x7000-0x6000
fails "getspi: range syntax" 2 "--range: '0x7000' is not <lo>-<hi>" \
	spi --getspi --af inet --edst 192.0.2.1 --proto esp --range 0x7000
# Last: larval SAs expire on their own (larval_lifetime, 30 s), which
# would change a table under the refusals above.
spi6=$("$I" spi --getspi --af inet6 --edst 2001:db8::1 --proto ah 2>&1)
check_match "getspi without a range: IPv6, an SPI from 0x100 up" \
	'^ah:[0-9a-f]{3,8}@2001:db8::1$' "$spi6"
cpi=$("$I" spi --getspi --af inet --edst 192.0.2.1 --proto comp --range 4096-65535 2>&1)
check_match "getspi for comp, decimal range" '^comp\.[0-9a-f]{4}@192\.0\.2\.1$' "$cpi"
check "spi --clear (larval SAs too)" "$I" spi --clear
check_eq "nothing left" "" "$(cat /proc/net/ipsec_spi)"

# --- spigrp ------------------------------------------------------------------------------
gw=192.168.2.110
check "tun SA" "$I" spi --said tun.3d0@$gw --src 192.168.2.1 --dst $gw --ip4
check "comp SA" "$I" spi --said comp.3d0@$gw --src 192.168.2.1 --comp deflate
check "esp SA" "$I" spi --said esp.187a101b@$gw --src 192.168.2.1 --esp aes-sha1-96 \
	--enckey "$(key 16)" --authkey "$(key 20)"
check "ah SA" "$I" spi --said ah.187a101a@$gw --src 192.168.2.1 --ah hmac-sha1-96 \
	--authkey "$(key 20)"
check "spigrp <af> <dst> <spi> <proto> x4 (hex and decimal SPIs)" "$I" spigrp \
	inet $gw 0x3d0 tun inet $gw 976 comp inet $gw 0x187a101b esp inet $gw 410652698 ah
check_eq "ipsec_spigrp: the group inner to outer" \
	"tun.3d0@$gw comp.3d0@$gw esp.187a101b@$gw ah.187a101a@$gw" \
	"$(cat /proc/net/ipsec_spigrp)"
check_eq "ipsec spigrp prints /proc/net/ipsec_spigrp byte for byte" \
	"$(od -c /proc/net/ipsec_spigrp)" "$("$I" spigrp | od -c)"
check_json "spigrp --json agrees with ipsec_spigrp" spigrp
refused "grouping an SA that is in a group" EEXIST spigrp \
	spigrp --said esp.187a101b@$gw ah.187a101a@$gw
check "spigrp --said <one SA>: ungroup" "$I" spigrp --said tun.3d0@$gw
check_eq "... no group left" "" "$(cat /proc/net/ipsec_spigrp)"
refused "a group out of order (ah inside esp)" EINVAL spigrp \
	spigrp --said ah.187a101a@$gw esp.187a101b@$gw
refused "a group with an SA that does not exist" ENOENT SAID \
	spigrp --said tun.3d0@$gw esp.3d1@$gw
check "spigrp --said tun esp ah" "$I" spigrp --said tun.3d0@$gw esp.187a101b@$gw ah.187a101a@$gw
check_eq "ipsec_spigrp: three SAs" "tun.3d0@$gw esp.187a101b@$gw ah.187a101a@$gw" \
	"$(cat /proc/net/ipsec_spigrp)"
fails "five SAs" 2 "at most 4 SAs" spigrp --said tun.3d0@$gw comp.3d0@$gw \
	esp.187a101b@$gw ah.187a101a@$gw ah.187a101b@$gw
fails "an incomplete quadruple" 2 "'inet': an SA is <af> <dst> <spi> <proto>" \
	spigrp inet $gw 0x3d0 tun inet $gw 0x3d0
fails "a bad <proto>" 2 "SA 2: 'ipcomp' is not ah, esp, tun or comp" \
	spigrp inet $gw 0x3d0 tun inet $gw 0x3d0 ipcomp
fails "a bad <spi>" 2 "SA 1: '3d0' is not a number (0x<hex> or decimal)" \
	spigrp inet $gw 3d0 tun
fails "a bad SAID" 2 "--said: tun.3d0: SAID: missing '@'" \
	spigrp --said tun.3d0
check "spi --del of the esp SA deletes its group" "$I" spi --said esp.187a101b@$gw --del
check_eq "... tun, esp, ah gone; comp (not grouped) stays" \
	"comp.3d0@$gw COMP_DEFLATE: dir=out src=192.168.2.1 life(c,s,h)=add(T,0,0)" \
	"$(spi_now)"
check_eq "... and no group" "" "$(cat /proc/net/ipsec_spigrp)"
check "IPv6 tun SA" "$I" spi --said tun:1001@2001:db8::1 --src 2001:db8::2 --dst 2001:db8::1 --ip6
check "IPv6 esp SA" "$I" spi --said esp:1001@2001:db8::1 --src 2001:db8::2 \
	--esp aes-gcm-16 --enckey "$(key 20)"
check "spigrp inet6 quadruples" "$I" spigrp inet6 2001:db8::1 0x1001 tun inet6 2001:db8::1 4097 esp
check_eq "ipsec_spigrp: an IPv6 group" "tun:1001@2001:db8::1 esp:1001@2001:db8::1" \
	"$(cat /proc/net/ipsec_spigrp)"
check "spi --clear" "$I" spi --clear

# --- klipsdebug ----------------------------------------------------------------------------
areas="tunnel xmit xform eroute spi radij esp ah rcv netlink comp"
expect_debug() {	# $1: the areas that are on
	local a
	for a in $areas; do
		if [[ " $1 " == *" $a "* ]]; then
			echo "debug_$a=ffffffff."
		else
			echo "debug_$a=00000000."
		fi
	done
}
check "klipsdebug --all" "$I" klipsdebug --all
check_eq "... every area on" "$(expect_debug "$areas")" "$("$I" klipsdebug)"
check "klipsdebug --none" "$I" klipsdebug --none
check_eq "... every area off" "$(expect_debug "")" "$(cat /proc/net/ipsec_klipsdebug)"
check "klipsdebug esp (plain area: --set)" "$I" klipsdebug esp
check "klipsdebug --set netlink" "$I" klipsdebug --set netlink
check_eq "... esp and netlink on" "$(expect_debug "esp netlink")" "$(cat /proc/net/ipsec_klipsdebug)"
check "klipsdebug --clear esp" "$I" klipsdebug --clear esp
check_eq "... netlink only" "$(expect_debug "netlink")" "$(cat /proc/net/ipsec_klipsdebug)"
check_json "klipsdebug --json agrees with ipsec_klipsdebug (netlink on)" klipsdebug
check "klipsdebug --set all" "$I" klipsdebug --set all
check "klipsdebug --clear all" "$I" klipsdebug --clear all
check_eq "... every area off" "$(expect_debug "")" "$(cat /proc/net/ipsec_klipsdebug)"
check "klipsdebug --none --set comp: only comp" "$I" klipsdebug --none --set comp
check_eq "... comp only" "$(expect_debug "comp")" "$(cat /proc/net/ipsec_klipsdebug)"
fails "an unknown area" 2 \
	"'pfkey': unknown debug area (tunnel, xmit, xform, eroute, spi, radij, esp, ah, rcv, netlink, comp or all)" \
	klipsdebug pfkey
fails "--set without an area" 2 "--set: needs a value" klipsdebug --set
fails "--all with --none" 2 "--none: not with --all" klipsdebug --all --none
check "klipsdebug --none" "$I" klipsdebug --none

# --- eroute ----------------------------------------------------------------------------------
{
	ip addr add 192.1.2.23/32 dev lo
	check "tun SA (outbound)" "$I" spi --said tun.1001@192.1.2.45 --src 192.1.2.23 \
		--dst 192.1.2.45 --ip4
	check "esp SA (outbound)" "$I" spi --said esp.1001@192.1.2.45 --src 192.1.2.23 \
		--esp aes-gcm-16 --enckey "$(key 20)"
	check "spigrp tun esp" "$I" spigrp --said tun.1001@192.1.2.45 esp.1001@192.1.2.45
	check "esp SA (transport, alone)" "$I" spi --said esp.1005@192.1.2.45 --src 192.1.2.23 \
		--esp aes-gcm-16 --enckey "$(key 20)"
	check "eroute --add subnet to subnet, a group" "$I" eroute --add --eraf inet \
		--src 192.0.2.0/24 --dst 192.0.1.0/24 --said tun.1001@192.1.2.45
	check "eroute --add host to host, %drop" "$I" eroute --add --eraf inet \
		--src 192.1.2.23/32 --dst 192.0.1.1/32 --said %drop
	check "eroute --add with protocol and ports (names)" "$I" eroute --add --eraf inet \
		--src 192.1.3.209/32 --dst 192.1.2.23/32 --transport-proto udp \
		--src-port 1701 --dst-port l2f --af inet --edst 192.1.2.45 --spi 0x1005 --proto esp
	check "eroute --add 0/0 %trap" "$I" eroute --add --eraf inet --src 0.0.0.0/0 \
		--dst 0.0.0.0/0 --said %trap
	check_eq "ipsec_eroute: Documentation/klips/proc.md's format, in matching order" \
"0          192.1.3.209/32:1701 -> 192.1.2.23/32:1701 => esp.1005@192.1.2.45:17
0          192.1.2.23/32      -> 192.0.1.1/32       => %drop
0          192.0.2.0/24       -> 192.0.1.0/24       => tun.1001@192.1.2.45
0          0.0.0.0/0          -> 0.0.0.0/0          => %trap" "$(cat /proc/net/ipsec_eroute)"
	check_eq "ipsec eroute prints /proc/net/ipsec_eroute byte for byte" \
		"$(od -c /proc/net/ipsec_eroute)" "$("$I" eroute | od -c)"
	check_json "eroute --json agrees with ipsec_eroute" eroute
	refused "the same eroute again" EEXIST eroute eroute --add --eraf inet \
		--src 192.1.2.23/32 --dst 192.0.1.1/32 --said %pass
	refused "host bits beyond the prefix" EINVAL "eroute --src" eroute --add \
		--eraf inet --src 192.0.2.1/24 --dst 192.0.3.0/24 --said %pass
	refused "deleting an eroute that does not exist" ENOENT eroute \
		eroute --del --eraf inet --src 192.0.2.0/24 --dst 192.0.3.0/24
	refused "an eroute to an SA that does not exist" ENOENT eroute \
		eroute --add --eraf inet --src 192.0.2.0/24 --dst 192.0.3.0/24 \
		--said esp.1009@192.1.2.45
	check "eroute --replace %drop by %pass" "$I" eroute --replace --eraf inet \
		--src 192.1.2.23/32 --dst 192.0.1.1/32 --said %pass
	check "eroute --replace of a new eroute adds it (%reject)" "$I" eroute --replace \
		--eraf inet --src 10.0.0.0/8 --dst 10.1.0.0/16 --said %reject
	check "eroute --add %hold, %trapsubnet, %passthrough" bash -c "
		'$I' eroute --add --eraf inet --src 10.2.0.0/16 --dst 10.3.0.0/16 --said %hold &&
		'$I' eroute --add --eraf inet --src 10.4.0.0/16 --dst 10.5.0.0/16 --said %trapsubnet &&
		'$I' eroute --add --eraf inet --src 10.6.0.0/16 --dst 10.7.0.0/16 --said %passthrough"
	check "eroute --del the %trap with its selectors" "$I" eroute --del --eraf inet \
		--src 0.0.0.0/0 --dst 0.0.0.0/0
	check_eq "ipsec_eroute after replace, add, del" \
"0          192.1.3.209/32:1701 -> 192.1.2.23/32:1701 => esp.1005@192.1.2.45:17
0          192.1.2.23/32      -> 192.0.1.1/32       => %pass
0          192.0.2.0/24       -> 192.0.1.0/24       => tun.1001@192.1.2.45
0          10.2.0.0/16        -> 10.3.0.0/16        => %hold
0          10.4.0.0/16        -> 10.5.0.0/16        => %trapsubnet
0          10.6.0.0/16        -> 10.7.0.0/16        => %passthrough4
0          10.0.0.0/8         -> 10.1.0.0/16        => %reject" "$(cat /proc/net/ipsec_eroute)"
	check "inbound tun SA" "$I" spi --said tun.1002@192.1.2.23 --src 192.1.2.45 \
		--dst 192.1.2.23 --ip4
	check "inbound esp SA" "$I" spi --said esp.1002@192.1.2.23 --src 192.1.2.45 \
		--esp aes-gcm-16 --enckey "$(key 20)"
	check "spigrp inbound tun esp" "$I" spigrp --said tun.1002@192.1.2.23 esp.1002@192.1.2.23
	check "eroute --addin: the group's inbound policy" "$I" eroute --addin --eraf inet \
		--src 192.0.1.0/24 --dst 192.0.2.0/24 --said tun.1002@192.1.2.23
	check_eq "ipsec_spi: policy= and flags=0x8 on the tun SA" \
		"tun.1002@192.1.2.23 IPIP: dir=in src=192.1.2.45 policy=192.0.1.0/24->192.0.2.0/24 flags=0x8 life(c,s,h)=add(T,0,0)" \
		"$(spi_now | grep '^tun.1002@')"
	check_json "spi --json agrees with ipsec_spi (policy, flags)" spi
	check_eq "--addin adds no eroute" 7 "$(wc -l < /proc/net/ipsec_eroute)"
	refused "--addin: host bits beyond the prefix" EINVAL "eroute --dst" \
		eroute --addin --eraf inet --src 192.0.1.0/24 --dst 192.0.2.1/24 \
		--said tun.1002@192.1.2.23
	fails "--addin takes no ports" 2 "--transport-proto: not with --addin" \
		eroute --addin --eraf inet --src 192.0.1.0/24 --dst 192.0.2.0/24 \
		--transport-proto 6 --said tun.1002@192.1.2.23
	check "eroute --clear" "$I" eroute --clear
	check_eq "... no eroute left" "" "$(cat /proc/net/ipsec_eroute)"
	check "IPv6 eroute with a protocol and a port" "$I" eroute --add --eraf inet6 \
		--src 2001:db8:1::/48 --dst 2001:db8:2::/48 --transport-proto tcp \
		--dst-port https --said esp.1005@192.1.2.45
	check "IPv6 eroute with a source port, to an IPv6 SA" bash -c "
		'$I' spi --said esp:1003@2001:db8::45 --src 2001:db8::23 --esp aes-gcm-16 --enckey $(key 20) &&
		'$I' eroute --add --eraf inet6 --src 2001:db8:3::1/128 --dst ::/0 \
			--transport-proto 17 --src-port 500 --said esp:1003@2001:db8::45"
	check "IPv6 eroute %passthrough6" "$I" eroute --add --eraf inet6 \
		--src ::/0 --dst 2001:db8:4::/64 --said %passthrough6
	check_eq "ipsec_eroute: IPv6 with ports bracketed, an IPv6 SAID with a protocol too" \
"0          ::/0               -> 2001:db8:4::/64    => %passthrough6
0          2001:db8:1::/48    -> [2001:db8:2::/48]:443 => esp.1005@192.1.2.45:6
0          [2001:db8:3::1/128]:500 -> ::/0               => [esp:1003@2001:db8::45]:17" \
		"$(cat /proc/net/ipsec_eroute)"
	check_json "eroute --json agrees with ipsec_eroute (IPv6, ports, protocols)" eroute
	fails "--eraf missing" 2 "--eraf: missing" \
		eroute --add --src 10.0.0.0/8 --dst 10.1.0.0/16 --said %drop
	fails "no action" 2 "no action: --add, --replace, --addin, --del or --clear" \
		eroute --eraf inet --src 10.0.0.0/8 --dst 10.1.0.0/16 --said %drop
	fails "a prefix of the other family" 2 "--dst: '2001:db8::' is not an inet address" \
		eroute --add --eraf inet --src 10.0.0.0/8 --dst 2001:db8::/32 --said %drop
	fails "a prefix without /len" 2 "--src: '10.0.0.0' is not <net>/<len>" \
		eroute --add --eraf inet --src 10.0.0.0 --dst 10.1.0.0/16 --said %drop
	fails "a prefix length too long" 2 "--src: '33' is not a prefix length (0-32)" \
		eroute --add --eraf inet --src 10.0.0.0/33 --dst 10.1.0.0/16 --said %drop
	fails "a port without a protocol" 2 "--dst-port: needs --transport-proto" \
		eroute --add --eraf inet --src 10.0.0.0/8 --dst 10.1.0.0/16 --dst-port 80 --said %drop
	fails "an unknown protocol name" 2 \
		"--transport-proto: 'tcpx' is not a protocol number or name" \
		eroute --add --eraf inet --src 10.0.0.0/8 --dst 10.1.0.0/16 --transport-proto tcpx --said %drop
	fails "an unknown service name" 2 \
		"--dst-port: 'www2' is not a port number or service name" \
		eroute --add --eraf inet --src 10.0.0.0/8 --dst 10.1.0.0/16 --transport-proto tcp \
		--dst-port www2 --said %drop
	fails "an unknown shunt" 2 "--said: %deny: SAID: unknown shunt name" \
		eroute --add --eraf inet --src 10.0.0.0/8 --dst 10.1.0.0/16 --said %deny
	fails "--add without a target" 2 \
		"no SA given: --said <SAID>, or --af --edst --spi --proto" \
		eroute --add --eraf inet --src 10.0.0.0/8 --dst 10.1.0.0/16
	fails "--del with a target" 2 "--said: not with --del" \
		eroute --del --eraf inet --src 10.0.0.0/8 --dst 10.1.0.0/16 --said %drop
	check "eroute --clear" "$I" eroute --clear
	check "spi --clear" "$I" spi --clear
}

# --- tncfg -------------------------------------------------------------------------------------
{
	ip link add veth0 type veth peer name veth1
	check "tncfg --attach --virtual ipsec0 --physical veth0" "$I" tncfg --attach \
		--virtual ipsec0 --physical veth0
	check_eq "ipsec_tncfg: attached, MTU 1500 - 80" \
"ipsec0 -> veth0 mtu=1420(1420) -> 1500
ipsec1 -> NULL mtu=1500(1500) -> 0
ipsec2 -> NULL mtu=1500(1500) -> 0
ipsec3 -> NULL mtu=1500(1500) -> 0" "$(cat /proc/net/ipsec_tncfg)"
	check_json "tncfg --json agrees with ipsec_tncfg (one attached)" tncfg
	check "tncfg --attach ipsec1 to veth1" "$I" tncfg --attach --virtual ipsec1 --physical veth1
	check "tncfg --detach --virtual ipsec0" "$I" tncfg --detach --virtual ipsec0
	check_eq "... ipsec0 detached keeps its MTU; ipsec1 attached" \
"ipsec0 -> NULL mtu=1420(1420) -> 0
ipsec1 -> veth1 mtu=1420(1420) -> 1500" "$(head -2 /proc/net/ipsec_tncfg)"
	check "tncfg --attach ipsec0 again" "$I" tncfg --attach --virtual ipsec0 --physical veth0
	check "tncfg --clear: detach all" "$I" tncfg --clear
	check_eq "... nothing attached" "" "$(grep -v ' -> NULL ' /proc/net/ipsec_tncfg)"
	# A device that can carry an IPv6 outer path: room for the IPv6 outer
	# header (1500 - 120); a link-local address alone does not count.
	ip link set veth0 up
	ip addr add 2001:db8:77::1/64 dev veth0 nodad
	check "tncfg --attach to a device with a global IPv6 address" "$I" tncfg --attach \
		--virtual ipsec0 --physical veth0
	check_eq "... MTU 1500 - 120" "ipsec0 -> veth0 mtu=1380(1380) -> 1500" \
		"$(head -1 /proc/net/ipsec_tncfg)"
	ip addr del 2001:db8:77::1/64 dev veth0
	# KLIPS's fixed MTU for old scripts (module parameter fixed_mtu).
	echo 16260 > /sys/module/klips/parameters/fixed_mtu
	check "tncfg --attach with fixed_mtu=16260" "$I" tncfg --attach --virtual ipsec1 \
		--physical veth1
	echo 0 > /sys/module/klips/parameters/fixed_mtu
	check_eq "... MTU 16260 (no eroute: the effective MTU is the device's)" \
		"ipsec1 -> veth1 mtu=16260(16260) -> 1500" "$(sed -n 2p /proc/net/ipsec_tncfg)"
	check "tncfg --clear again" "$I" tncfg --clear
	ip link set dev ipsec0 mtu 1420
	ip link set dev ipsec1 mtu 1420
	check "tncfg --create ipsec9" "$I" tncfg --create ipsec9
	check_eq "... ipsec9 listed last, detached" "ipsec9 -> NULL mtu=1500(1500) -> 0" \
		"$(tail -1 /proc/net/ipsec_tncfg)"
	check_match "... and a klips link" '^klips' \
		"$(ip -d -o link show ipsec9 | grep -o 'klips.*' | head -c 5)"
	refused "tncfg --create of an existing device" EEXIST tncfg tncfg --create ipsec9
	check "tncfg --delete ipsec9" "$I" tncfg --delete ipsec9
	check_eq "... gone" "" "$(grep ipsec9 /proc/net/ipsec_tncfg)"
	refused "attach to a device that does not exist" ENODEV "tncfg --physical" \
		tncfg --attach --virtual ipsec0 --physical nosuch0
	refused "attach a device that is not an ipsecN" ENODEV tncfg \
		tncfg --attach --virtual veth1 --physical veth0
	refused "delete a device that is not an ipsecN" ENODEV tncfg tncfg --delete veth0
	refused "detach a device that does not exist" ENODEV tncfg tncfg --detach --virtual ipsec42
	refused "attach to the loopback device" EINVAL "tncfg --physical" \
		tncfg --attach --virtual ipsec0 --physical lo
	fails "--attach without --physical" 2 "--physical: missing" \
		tncfg --attach --virtual ipsec0
	fails "--detach with --physical" 2 "--physical: not with --detach" \
		tncfg --detach --virtual ipsec0 --physical veth0
	fails "a name longer than IFNAMSIZ" 2 \
		"--create: 'ipsec12345678901' is longer than 15 characters" \
		tncfg --create ipsec12345678901
	fails "no action" 2 "no action: --attach, --detach, --clear, --create or --delete" \
		tncfg --virtual ipsec0
	ip link del veth0
}

# --- look (Documentation/klips/cli.md: eroutes with their chains, attached devices, SAs) -----------------------------
check "SAs for look: an IPv4 and an IPv6 group, an SA alone" bash -c "
	'$I' spi --said tun.d1234567@192.1.2.45 --src 192.1.2.23 --dst 192.1.2.45 --ip4 &&
	'$I' spi --said esp.d1234567@192.1.2.45 --src 192.1.2.23 --esp aes-sha1-96 \
		--enckey $(key 16) --authkey $(key 20) &&
	'$I' spigrp --said tun.d1234567@192.1.2.45 esp.d1234567@192.1.2.45 &&
	'$I' spi --said tun:d200@2001:db8::45 --src 2001:db8::23 --dst 2001:db8::45 --ip6 &&
	'$I' spi --said esp:d200@2001:db8::45 --src 2001:db8::23 --esp aes-gcm-16 \
		--enckey $(key 20) 2>/dev/null &&
	'$I' spigrp --said tun:d200@2001:db8::45 esp:d200@2001:db8::45 &&
	'$I' spi --said esp.d1234568@192.1.2.45 --src 192.1.2.23 --esp aes-gcm-16 \
		--enckey $(key 20) 2>/dev/null"
check "eroutes for look" bash -c "
	'$I' eroute --add --eraf inet --src 192.0.2.0/24 --dst 192.0.1.0/24 \
		--said tun.d1234567@192.1.2.45 &&
	'$I' eroute --add --eraf inet --src 192.0.2.0/24 --dst 192.0.9.9/32 \
		--transport-proto 6 --said tun.d1234567@192.1.2.45 &&
	'$I' eroute --add --eraf inet --src 0.0.0.0/0 --dst 0.0.0.0/0 --said %trap"
ip link add veth0 type veth peer name veth1
"$I" tncfg --attach --virtual ipsec2 --physical veth0
# The effective MTU of the tun+esp group (AES-CBC, HMAC-SHA1-96) on a
# 1500-byte device: 1500 - 20 (outer IPv4) - 8 (ESP) - 16 (IV) - 12 (ICV)
# = 1444 for the padded payload; the largest multiple of 16 is 1440, less
# the pad-length and next-header bytes: 1438.
check_eq "ipsec_tncfg: the effective MTU of the group the eroutes lead to" \
	"ipsec2 -> veth0 mtu=1420(1438) -> 1500" "$(grep '^ipsec2 ' /proc/net/ipsec_tncfg)"
check "eroutes for look: to an SA alone, to an IPv6 group, with protocols" bash -c "
	'$I' eroute --add --eraf inet --src 10.1.0.0/16 --dst 10.2.0.0/16 \
		--transport-proto 17 --said esp.d1234568@192.1.2.45 &&
	'$I' eroute --add --eraf inet6 --src 2001:db8:3::/64 --dst 2001:db8:4::/64 \
		--transport-proto 17 --said tun:d200@2001:db8::45"
# Documentation/klips/cli.md's eroute line: src and dst in 18 columns, the group's chain (and
# the eroute's protocol), or the target as /proc prints it; by "<src> <dst>".
look_line() { printf '%-18s -> %-18s => %s (%s)' "$@"; }
declare -A look_eroute=(
	["192.0.2.0/24 192.0.1.0/24"]=$(look_line 192.0.2.0/24 192.0.1.0/24 \
		"tun.d1234567@192.1.2.45 esp.d1234567@192.1.2.45" 0)
	["192.0.2.0/24 192.0.9.9/32"]=$(look_line 192.0.2.0/24 192.0.9.9/32 \
		"tun.d1234567@192.1.2.45 esp.d1234567@192.1.2.45:6" 0)
	["0.0.0.0/0 0.0.0.0/0"]=$(look_line 0.0.0.0/0 0.0.0.0/0 %trap 0)
	["10.1.0.0/16 10.2.0.0/16"]=$(look_line 10.1.0.0/16 10.2.0.0/16 \
		esp.d1234568@192.1.2.45:17 0)
	["2001:db8:3::/64 2001:db8:4::/64"]=$(look_line 2001:db8:3::/64 2001:db8:4::/64 \
		"tun:d200@2001:db8::45 esp:d200@2001:db8::45:17" 0)
)
# In /proc's order, whatever it is; then the attached devices as their
# ipsec_tncfg lines without the spaces around the arrows; then the SAs,
# sorted by byte value.
look_expect=$(
	while read -r _ src _ dst _; do
		echo "${look_eroute["$src $dst"]-(no look line for $src -> $dst)}"
	done < /proc/net/ipsec_eroute
	grep -v ' -> NULL ' /proc/net/ipsec_tncfg | sed 's/ -> /->/g'
	LC_ALL=C sort <<'EOF'
tun.d1234567@192.1.2.45 IPIP: dir=out src=192.1.2.23 life(c,s,h)=add(T,0,0)
esp.d1234567@192.1.2.45 ESP_AES_HMAC_SHA1: dir=out src=192.1.2.23 iv_bits=128 alen=160 aklen=160 eklen=128 life(c,s,h)=add(T,0,0)
tun:d200@2001:db8::45 IPIP: dir=out src=2001:db8::23 life(c,s,h)=add(T,0,0)
esp:d200@2001:db8::45 ESP_AES_GCM_16: dir=out src=2001:db8::23 iv_bits=64 alen=128 eklen=128 life(c,s,h)=add(T,0,0)
esp.d1234568@192.1.2.45 ESP_AES_GCM_16: dir=out src=192.1.2.23 iv_bits=64 alen=128 eklen=128 life(c,s,h)=add(T,0,0)
EOF
)
look=$("$I" look 2>&1)
check_match "look: hostname and date first" \
	"^$(ere "$(hostname)") [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [A-Z]+ [0-9]{4}$" \
	"$(head -1 <<< "$look")"
check_eq "look: eroutes with their chains, attached devices, SAs sorted" \
	"$look_expect" "$(tail -n +2 <<< "$look" | clock)"
"$I" tncfg --clear
ip link del veth0
"$I" eroute --clear 2>/dev/null
check "spi --clear" "$I" spi --clear

# --- monitor (Documentation/klips/cli.md: one line per event) -----------------------------------------------------------
monitor_start "$tmp/events"
"$I" spi --said esp.7001@192.0.2.1 --src 192.0.2.2 --esp aes-sha1-96 \
	--enckey "$(key 16)" --authkey "$(key 20)"
"$I" spi --said ah:7002@2001:db8::1 --src 2001:db8::2 --ah hmac-sha2_256-128 \
	--authkey "$(key 32)"
"$I" spi --said esp.7001@192.0.2.1 --del
"$I" spi --said tun.7003@192.0.2.1 --src 192.0.2.2 --dst 192.0.2.1 --ip4
"$I" spi --clear
# The events are sent while the commands run: the last one ends the wait.
wait_for "$tmp/events" '^del tun\.7003@' 10
kill -INT $mon
wait $mon
check_eq "monitor: SIGINT ends it with status 0" 0 $?
check_eq "monitor: one line per event, flushed; spi --clear: a del per SA" \
"add esp.7001@192.0.2.1 ESP_AES_HMAC_SHA1
add ah:7002@2001:db8::1 AH_HMAC_SHA2_256
del esp.7001@192.0.2.1 ESP_AES_HMAC_SHA1
add tun.7003@192.0.2.1 IPIP
del ah:7002@2001:db8::1 AH_HMAC_SHA2_256
del tun.7003@192.0.2.1 IPIP" "$(events "$tmp/events")"
check_eq "monitor: nothing on stderr" "" "$(cat "$tmp/events.err")"
monitor_start "$tmp/events2"
kill -TERM $mon
wait $mon
check_eq "monitor: SIGTERM ends it with status 0, nothing on stderr" "0: " \
	"$?: $(cat "$tmp/events2.err")"
# Expiry: soft then hard add-time limits (whole seconds: the hard one is
# due 2 s after the add, give it 10).
monitor_start "$tmp/events3"
"$I" spi --said esp.7004@192.0.2.1 --src 192.0.2.2 --esp aes-sha1-96 \
	--enckey "$(key 16)" --authkey "$(key 20)" --life soft-addtime=1,hard-addtime=2
wait_for "$tmp/events3" '^del esp\.7004@' 12
kill -INT $mon
wait $mon
check_eq "monitor: expire soft, then hard, then the SA's del" \
"add esp.7004@192.0.2.1 ESP_AES_HMAC_SHA1
expire soft esp.7004@192.0.2.1 ESP_AES_HMAC_SHA1
expire hard esp.7004@192.0.2.1 ESP_AES_HMAC_SHA1
del esp.7004@192.0.2.1 ESP_AES_HMAC_SHA1" "$(events "$tmp/events3")"
check_eq "... the hard expiry deleted it" "" "$(grep '^esp.7004@' /proc/net/ipsec_spi)"
"$I" spi --clear
# ACQUIRE: a packet routed into ipsec0 hits a %trap eroute.
ip link add veth0 type veth peer name veth1
ip link set veth0 up
"$I" tncfg --attach --virtual ipsec0 --physical veth0
sysctl -qw net.ipv6.conf.ipsec0.disable_ipv6=1
ip addr add 10.99.0.1/24 dev ipsec0
ip link set ipsec0 up
"$I" eroute --add --eraf inet --src 10.99.0.0/24 --dst 10.99.0.0/24 --said %trap
monitor_start "$tmp/events4"
echo x 2>/dev/null > /dev/udp/10.99.0.2/9
wait_for "$tmp/events4" '^acquire ' 5
kill -INT $mon
wait $mon
check_match "monitor: acquire with the packet's host pair, protocol and ports, and the trap" \
	'^acquire 10\.99\.0\.1/32:[0-9]+ -> 10\.99\.0\.2/32:9 proto=17 => %trap$' \
	"$(events "$tmp/events4")"
"$I" eroute --clear
"$I" tncfg --clear
ip addr flush dev ipsec0
ip link set ipsec0 down
ip link del veth0

# --- batch mode ---------------------------------------------------------------------------------
cat > "$tmp/batch" <<EOF
# SAs and a group, as a keying script would install them

spi --said tun.8001@192.0.2.1 --src 192.0.2.2 --dst 192.0.2.1 --ip4
spi --said esp.8001@192.0.2.1 --src 192.0.2.2 --esp aes-gcm-16 --enckey $(key 20)   # inline comment
	spi --af inet --edst 192.0.2.1 --spi 0x8002 --proto ah --src 192.0.2.2 --ah aes-cmac-96 --authkey $(key 16)
spigrp --said tun.8001@192.0.2.1 esp.8001@192.0.2.1
klipsdebug --set spi
klipsdebug --clear spi
EOF
check_eq "ipsec -f: every line applied, warnings once" \
	"exit 0: ipsec: $tmp/batch:4: spi: warning: --esp aes-gcm-16: a counter-mode algorithm keyed by hand reuses nonces if this SA is ever added again with the same key" \
	"exit $("$I" -f "$tmp/batch" 2>"$tmp/err"; echo $?): $(cat "$tmp/err")"
check_eq "... the SAs and the group are there" \
"ah.8002@192.0.2.1 AH_AES_CMAC: dir=out src=192.0.2.2 alen=128 aklen=128 life(c,s,h)=add(T,0,0)
esp.8001@192.0.2.1 ESP_AES_GCM_16: dir=out src=192.0.2.2 iv_bits=64 alen=128 eklen=128 life(c,s,h)=add(T,0,0)
tun.8001@192.0.2.1 IPIP: dir=out src=192.0.2.2 life(c,s,h)=add(T,0,0)
== tun.8001@192.0.2.1 esp.8001@192.0.2.1" "$(spi_now; echo "== $(cat /proc/net/ipsec_spigrp)")"
printf 'spi --said esp.8003@192.0.2.1 --src 192.0.2.2 --esp aes-sha1-96 --enckey %s --authkey %s\n' \
	"$(key 16)" "$(key 20)" > "$tmp/batch2"
printf 'spi --said esp.8001@192.0.2.1 --src 192.0.2.2 --esp aes-sha1-96 --enckey %s --authkey %s\n' \
	"$(key 16)" "$(key 20)" >> "$tmp/batch2"
printf 'spi --said esp.8004@192.0.2.1 --src 192.0.2.2 --esp aes-sha1-96 --enckey 0xzz\n' >> "$tmp/batch2"
out=$("$I" batch "$tmp/batch2" 2>&1)
rc=$?
check_match "ipsec batch: the first failure, with its line number (exit 1)" \
	"^$(ere "exit 1: ipsec: $tmp/batch2:2: spi: kernel refused: ${strerror[EEXIST]}: SAID: ")$reason\$" \
	"exit $rc: $out"
check_eq "... the line before it is applied" 1 "$(grep -c '^esp.8003@' /proc/net/ipsec_spi)"
printf 'spi --clear\nspi --said esp.8005@192.0.2.1 --src 192.0.2.2 --esp aes --enckey 0x0g\nspi --said tun.8006@192.0.2.1 --src 192.0.2.2 --dst 192.0.2.1 --ip4\n' > "$tmp/batch3"
check_eq "a usage error in a batch: exit 2, its line" \
	"exit 2: ipsec: $tmp/batch3:2: spi: --enckey: not hex after 0x" \
	"exit $("$I" -f "$tmp/batch3" 2>"$tmp/err" >/dev/null; echo $?): $(cat "$tmp/err")"
check_eq "... the lines before it are applied, not those after" "" "$(cat /proc/net/ipsec_spi)"
printf 'spigrp --said esp.9999@192.0.2.1\nfrobnicate\n' > "$tmp/batch4"
check_match "a refusal before a usage error: only the refusal is reported" \
	"^$(ere "exit 1: ipsec: $tmp/batch4:1: spigrp: kernel refused: ${strerror[ENOENT]}: SAID: ")$reason\$" \
	"exit $("$I" -f "$tmp/batch4" 2>"$tmp/err"; echo $?): $(cat "$tmp/err")"
printf 'spi --getspi --af inet --edst 192.0.2.1 --proto esp --range 0x8100-0x8100\nspi\n' |
	"$I" -f - > "$tmp/out" 2>&1
check_match "batch from stdin; getspi and a listing print" \
	'^esp\.8100@192\.0\.2\.1
esp\.8100@192\.0\.2\.1 .*state=larval' "$(cat "$tmp/out")"
check "spi --clear" "$I" spi --clear
count=3000
ek=$(key 16) ak=$(key 20)
for ((i = 0; i < count; i++)); do
	printf 'spi --said esp.%x@10.%d.%d.1 --src 10.0.0.2 --esp aes-sha1-96 --enckey %s --authkey %s\n' \
		$((0x10000 + i)) $((i >> 8)) $((i & 255)) "$ek" "$ak"
done > "$tmp/scale"
start=$(date +%s%N)
check "ipsec -f: $count SAs" "$I" -f "$tmp/scale"
echo "# $count SAs in $((($(date +%s%N) - start) / 1000000)) ms"
check_eq "... all of them in ipsec_spi" $count "$(wc -l < /proc/net/ipsec_spi)"
check_json "... spi --json agrees with ipsec_spi, $count SAs" spi
check "spi --clear" "$I" spi --clear
check_eq "... gone" 0 "$(wc -l < /proc/net/ipsec_spi)"

# --- namespaces: the tool works in the namespace it runs in -------------------------------------------
check "init ns: an SA of its own" "$I" spi --said esp.9002@192.0.2.1 --src 192.0.2.2 \
	--esp aes-sha1-96 --enckey "$(key 16)" --authkey "$(key 20)"
ip netns add t1
ip netns exec t1 ip link set lo up
check "ns t1: spi add" ip netns exec t1 "$I" spi --said esp.9001@192.0.2.1 --src 192.0.2.2 \
	--esp aesctr-sha1-96 --enckey "$(key 20)" --authkey "$(key 20)"
check_eq "ns t1: ipsec spi lists its SA only" \
	"esp.9001@192.0.2.1 ESP_AES_CTR_HMAC_SHA1: dir=out src=192.0.2.2 iv_bits=64 alen=160 aklen=160 eklen=128 life(c,s,h)=add(T,0,0)" \
	"$(ip netns exec t1 "$I" spi | clock)"
check_eq "ns t1: spi --json lists its SA only" '"esp.9001@192.0.2.1"' \
	"$(ip netns exec t1 "$I" spi --json | grep -o '"said":"[^"]*"' | cut -d: -f2-)"
check_eq "init ns: its own SA only" \
	"esp.9002@192.0.2.1 ESP_AES_HMAC_SHA1: dir=out src=192.0.2.2 iv_bits=128 alen=160 aklen=160 eklen=128 life(c,s,h)=add(T,0,0)" \
	"$("$I" spi | clock)"
check "ns t1: deleting the namespace with an SA" ip netns del t1
# Documentation/klips/cli.md: without CAP_NET_ADMIN the kernel refuses with EPERM, before any
# extack; nothing changes.
before=$(snapshot)
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$I" spi --clear 2>&1)
rc=$?
[ "$(snapshot)" = "$before" ] || out+=$'\n(a table changed)'
check_eq "without CAP_NET_ADMIN: EPERM, no extack" \
	"exit 1: ipsec spi: kernel refused: ${strerror[EPERM]}" "exit $rc: $out"
check "spi --clear" "$I" spi --clear

# --- lifecycle: the physical device goes away under ipsecN ----------------------
ip link add eth7 type dummy
check "attach ipsec0 to eth7" "$I" tncfg --attach --virtual ipsec0 --physical eth7
ip link set eth7 name eth8
check_match "renaming the physical device detaches ipsec0" '^ipsec0 -> NULL ' \
	"$(grep '^ipsec0 ' /proc/net/ipsec_tncfg)"
check "attach ipsec0 to eth8" "$I" tncfg --attach --virtual ipsec0 --physical eth8
ip link del eth8
check_match "deleting the physical device detaches ipsec0" '^ipsec0 -> NULL ' \
	"$(grep '^ipsec0 ' /proc/net/ipsec_tncfg)"
ip link add eth7 type dummy
check "attach ipsec0 to a new eth7" "$I" tncfg --attach --virtual ipsec0 --physical eth7
ip netns add elsewhere
ip link set eth7 netns elsewhere
check_match "moving the physical device to another namespace detaches ipsec0" \
	'^ipsec0 -> NULL ' "$(grep '^ipsec0 ' /proc/net/ipsec_tncfg)"
ip netns del elsewhere

# State left in place for the unload below: a group, eroutes, an attachment.
ip link add eth7 type dummy
"$I" tncfg --attach --virtual ipsec1 --physical eth7
"$I" spi --said esp.9100@192.0.2.9 --src 192.0.2.2 --esp aes-sha1-96 \
	--enckey "$(key 16)" --authkey "$(key 20)" 2>/dev/null
"$I" spi --said tun.9100@192.0.2.9 --src 192.0.2.2 --dst 192.0.2.9 --ip4
"$I" spigrp --said tun.9100@192.0.2.9 esp.9100@192.0.2.9
"$I" eroute --add --eraf inet --src 10.1.0.0/16 --dst 10.2.0.0/16 --said tun.9100@192.0.2.9
"$I" eroute --add --eraf inet --src 0.0.0.0/0 --dst 0.0.0.0/0 --said %trap
check_eq "state present before rmmod: a group of two, two eroutes" "1 2" \
	"$(wc -l < /proc/net/ipsec_spigrp) $(wc -l < /proc/net/ipsec_eroute)"

# --- unload -----------------------------------------------------------------------------------------
check "rmmod klips" rmmod klips
fails "ipsec spi without the module: exit 1" 1 \
	"/proc/net/ipsec_spi: No such file or directory (is klips.ko loaded?)" spi
fails "a netlink command without the module: exit 1" 1 \
	"the klips netlink family is not registered (is klips.ko loaded?)" spi --clear
rm -rf "$tmp"
check_kmemleak "the tool's tests"
done_testing
