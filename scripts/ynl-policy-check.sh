#!/bin/bash
# Holds the netlink policies of src/ to the spec: the kernel's generator
# (tools/net/ynl/ynl-gen-c.py --mode kernel) writes the per-op policies and
# the op table the spec asks for, and this diffs them against src/, entry by
# entry, after normalizing both sides to lines such as
#
#	policy sa-del said: nest said
#	op sa-add do klips_nl_sa_add_doit policy=sa-add maxattr=SA_BITMAP flags=GENL_UNS_ADMIN_PERM
#
#   scripts/ynl-policy-check.sh [work dir]   (exit 1 and a diff on a mismatch)
#
# What the generator of the cached kernel (6.12) cannot write:
#  - The op table of kernel-policy: per-op (struct genl_ops, one policy for
#    an op's do and dump): it takes every op's policy from its do request,
#    and fails on dump-only ops (grp-get, eroute-get, dev-get) and on ops
#    whose do has no request (sa-flush, eroute-flush). So it runs on a copy
#    of the spec in split mode, which writes the same policies and a table
#    entry per do and per dump (struct genl_split_ops, 6.2 and later). Our
#    table stays struct genl_ops for 6.1: a dump shares its op's policy, so
#    dump entries are compared without one.
#  - A binary attribute with max-len (enc-key, auth-key): 6.12's generator
#    raises "not implemented"; later ones write NLA_POLICY_MAX_LEN(n). The
#    generator runs with that one case added, as later kernels write it;
#    ours is { .type = NLA_BINARY, .len = n }, the same check (longer is
#    -ERANGE), which 6.1 has no macro for.
#  - A message for an attribute that an op does not take. The generator
#    leaves it unset (NLA_UNSPEC), which strict validation refuses with
#    EINVAL; ours may be NLA_REJECT with a message instead (refused the same
#    way, naming the attribute), so NLA_REJECT entries of ours are left out
#    of the comparison.
# Once 6.1 is dropped, src/ takes the generated policies and op table as a
# netlink-gen.c (drivers/net/ovpn does) and this check goes with it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/cache.sh
. "$top/scripts/cache.sh"
src=$(ls -d "$KLIPS_CACHE"/linux-*/ 2>/dev/null | head -1)
[ -n "$src" ] ||
	src=$(ls -d "$(dirname "$("$top/scripts/uml-build.sh" release)")"/../linux-*/ | head -1)
work=${1:-}
if [ -z "$work" ]; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
work=$(realpath "$work")

# A tree of the generator's shape, outside the kernel's: it validates the
# spec against the schema beside the specs folder and names the spec by
# its path below the tree's top (where MAINTAINERS is).
gen=$work/tree
rm -rf "$gen"
mkdir -p "$gen/Documentation/netlink/specs"
: > "$gen/MAINTAINERS"
cp "$src/Documentation/netlink/genetlink-legacy.yaml" "$gen/Documentation/netlink/"
sed 's/^kernel-policy: per-op$/kernel-policy: split/' \
	"$top/Documentation/netlink/specs/klips.yaml" \
	> "$gen/Documentation/netlink/specs/klips.yaml"
grep -q '^kernel-policy: split$' "$gen/Documentation/netlink/specs/klips.yaml" ||
	{ echo "ynl-policy-check: the spec has no 'kernel-policy: per-op'" >&2; exit 1; }

/usr/bin/python3 - "$src/tools/net/ynl/ynl-gen-c.py" --mode kernel --source \
	--spec "$gen/Documentation/netlink/specs/klips.yaml" -o "$work/klips-nl-gen.c" <<'EOF'
import importlib.util
import os
import sys

path = sys.argv[1]
sys.path.insert(0, os.path.dirname(path))
spec = importlib.util.spec_from_file_location("ynl_gen_c", path)
ynl = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ynl)
binary_policy = ynl.TypeBinary._attr_policy


def max_len_policy(self, policy):
    try:
        return binary_policy(self, policy)
    except Exception:
        if set(self.checks) != {"max-len"}:
            raise
        return "NLA_POLICY_MAX_LEN(" + self.get_limit_str("max-len") + ")"


ynl.TypeBinary._attr_policy = max_len_policy
sys.argv = sys.argv[1:]
ynl.main()
EOF

# Both sides to "policy ..." and "op ..." lines, sorted.
/usr/bin/python3 - "$top/Documentation/netlink/specs/klips.yaml" \
	"$work/klips-nl-gen.c" "$work/generated.txt" \
	"$work/ours.txt" "$top"/src/*.c <<'EOF'
import re
import sys

import yaml

spec_path, gen_path, gen_out, ours_out = sys.argv[1:5]
ours_paths = sys.argv[5:]


def upper(name):
    return name.upper().replace("-", "_")


# Values of the spec's constants and enums, and of IFNAMSIZ, for limits
# written by name on one side and as a number on the other.
spec = yaml.safe_load(open(spec_path))
prefix = upper(spec["name"]) + "_"
values = {"IFNAMSIZ": 16}
for d in spec.get("definitions", []):
    if d["type"] == "const":
        values[prefix + upper(d["name"])] = d["value"]
    elif d["type"] == "enum":
        v = d.get("value-start", 0)
        for e in d["entries"]:
            name = e if isinstance(e, str) else e["name"]
            values[prefix + upper(d["name"]) + "_" + upper(name)] = v
            v += 1


def number(text):
    expr = re.sub(r"[A-Za-z_]\w*",
                  lambda m: str(values.get(m.group(0), m.group(0))), text)
    if re.fullmatch(r"[\d\s+\-*()]+", expr):
        return str(eval(expr))
    return text.strip()


def short(name):
    """klips_sa_add_nl_policy -> sa-add; KLIPS_A_SA_SAID -> SA_SAID"""
    name = re.sub(r"^klips_|_nl_policy$", "", name)
    return name.replace("_", "-") if name.islower() else name[len("KLIPS_A_"):]


def split_top(text, sep=","):
    """Split at sep outside (), {} and strings."""
    parts, depth, cur, quoted = [], 0, "", False
    for i, c in enumerate(text):
        if quoted:
            quoted = not (c == '"' and text[i - 1] != "\\")
        elif c == '"':
            quoted = True
        elif c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(cur.strip())
            cur = ""
            continue
        cur += c
    if cur.strip():
        parts.append(cur.strip())
    return parts


def members(text):
    """'{ .a = x, .b = y }' -> {'a': 'x', 'b': 'y'}"""
    out = {}
    for p in split_top(text.strip()[1:-1]):
        k, _, v = p.partition("=")
        out[k.strip().lstrip(".")] = " ".join(v.split())
    return out


def entry(v):
    v = " ".join(v.split())
    m = re.fullmatch(r"NLA_POLICY_(NESTED|NESTED_ARRAY)\((\w+)\)", v)
    if m:
        return m.group(1).lower().replace("_", "-") + " " + short(m.group(2))
    m = re.fullmatch(r"NLA_POLICY_(EXACT_LEN|MIN_LEN|MAX_LEN)\((.+)\)", v)
    if m:
        return "binary " + m.group(1).lower().replace("_", "-") + " " + number(m.group(2))
    m = re.fullmatch(r"NLA_POLICY_(MIN|MAX)\(NLA_(\w+), (.+)\)", v)
    if m:
        return m.group(2).lower() + " " + m.group(1).lower() + " " + number(m.group(3))
    m = re.fullmatch(r"NLA_POLICY_RANGE\(NLA_(\w+), (.+), (.+)\)", v)
    if m:
        return "%s range %s-%s" % (m.group(1).lower(), number(m.group(2)),
                                   number(m.group(3)))
    if v.startswith("{"):
        f = members(v)
        t = f.pop("type", "NLA_UNSPEC")[len("NLA_"):].lower()
        if t == "reject":
            return None
        if t in ("binary", "string", "nul_string") and "len" in f:
            t += " max-len " + number(f.pop("len"))
        return " ".join([t.replace("_", "-")] +
                        ["%s=%s" % kv for kv in sorted(f.items())])
    return "? " + v


def policies(text, lines, left_out):
    pat = r"struct nla_policy\s+(\w+)\[(\w+) \+ 1\] = \{(.*?)\n\};"
    for name, bound, body in re.findall(pat, text, re.S):
        lines.append("policy %s bound %s" % (short(name), short(bound)))
        for p in split_top(body):
            attr, _, v = p.partition("=")
            e = entry(v)
            where = "policy %s %s" % (short(name), short(attr.strip(" []")))
            if e is None:
                left_out.append(where + ": reject")
            else:
                lines.append("%s: %s" % (where, e))


def ops(text, lines):
    m = re.search(r"struct genl(?:_split)?_ops\s+\w+\[\w*\] = \{(.*?)\n\};",
                  text, re.S)
    if not m:
        lines.append("op table: none found")
        return
    for op in split_top(m.group(1)):
        f = members(op)
        if "cmd" not in f:
            lines.append("op ? " + " ".join(op.split()))
            continue
        cmd = f["cmd"][len("KLIPS_CMD_"):].lower().replace("_", "-")
        flags = " | ".join(sorted(x.strip() for x in f.get("flags", "0").split("|")
                                  if not x.strip().startswith("GENL_CMD_CAP_")))
        if "doit" in f:
            pol = short(f["policy"]) if "policy" in f else "-"
            top = short(f["maxattr"]) if "maxattr" in f else "-"
            lines.append("op %s do %s policy=%s maxattr=%s flags=%s" %
                         (cmd, f["doit"], pol, top, flags))
        if "dumpit" in f:
            lines.append("op %s dump %s flags=%s" % (cmd, f["dumpit"], flags))


def strip_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", "", text, flags=re.S)


for paths, out in (([gen_path], gen_out), (ours_paths, ours_out)):
    text = "\n".join(strip_comments(open(p).read()) for p in paths)
    lines, left_out = [], []
    policies(text, lines, left_out)
    ops(text, lines)
    with open(out, "w") as f:
        f.write("".join(sorted(l + "\n" for l in lines)))
    with open(out + ".left-out", "w") as f:
        f.write("".join(l + "\n" for l in left_out))
EOF

diff -u --label generated --label src/ "$work/generated.txt" "$work/ours.txt"
echo "ynl-policy-check: $(grep -c ' bound ' "$work/ours.txt") policies," \
	"$(grep -c '^policy .*: ' "$work/ours.txt") entries and" \
	"$(grep -c '^op ' "$work/ours.txt") op entries as generated; left out:" \
	"$(wc -l < "$work/ours.txt.left-out") NLA_REJECT entries of ours"
