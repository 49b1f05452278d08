#!/bin/sh
# The SDK as a plugin author gets it: install the build to a prefix, build
# sdk/template out of tree against the installed cloud-bevy-sdk-1.pc,
# package and sign it with the installed cloud-bevy-repo, then install it
# into a node made from the installed cloud-bevy-node and use it.
#   test-sdk-template.sh BUILD_DIR PREFIX LIBDIR SOURCE_DIR
set -eu
build_dir=$1 prefix=$2 libdir=$3 src=$4

dest=$(mktemp -d "${TMPDIR:-/tmp}/cb-sdk.XXXXXX")
node_pid=
cleanup () {
  if [ -n "$node_pid" ]; then kill "$node_pid" 2>/dev/null || true; wait "$node_pid" 2>/dev/null || true; fi
  rm -rf "$dest"
}
trap cleanup EXIT INT TERM
n=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
fail () { echo "not ok $((n + 1)) - $1"; exit 1; }

echo "1..6"
# Nothing of the build tree: only what was installed.
unset LD_LIBRARY_PATH
export CB_DEFAULT_REPO=
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1

meson install -C "$build_dir" --destdir "$dest" --no-rebuild --quiet
root="$dest$prefix"
for f in include/cloud-bevy-sdk-1/cloud-bevy/cloud-bevy.h include/cloud-bevy-sdk-1/cloud-bevy/cb-sdk-version.h \
         "$libdir/pkgconfig/cloud-bevy-sdk-1.pc" bin/cloud-bevy-repo bin/cloud-bevy-node \
         share/cloud-bevy/repo/root.json share/cloud-bevy/repo/index.json; do
  [ -e "$root/$f" ] || fail "installed $prefix/$f"
done
ls "$root/$libdir"/libcloud-bevy-sdk-1.so.1* > /dev/null || fail "installed libcloud-bevy-sdk-1.so.1"
# The private host header stays out of the SDK.
[ ! -e "$root/include/cloud-bevy-sdk-1/cloud-bevy/cb-sdk-host.h" ] || fail "no private headers installed"
ok "the SDK installs: headers, library, cloud-bevy-sdk-1.pc, cloud-bevy-repo, the default repository"

# The tree under $dest is the prefix now: the .pc says where it was meant
# to go, so point a copy of it at where it is.
mkdir "$dest/pkgconfig"
sed "s|^prefix=.*|prefix=$root|" "$root/$libdir/pkgconfig/cloud-bevy-sdk-1.pc" > "$dest/pkgconfig/cloud-bevy-sdk-1.pc"
export PKG_CONFIG_PATH="$dest/pkgconfig"
version=$(pkg-config --modversion cloud-bevy-sdk-1)
abi=$(pkg-config --variable=abi cloud-bevy-sdk-1)
[ "$abi" = "cloud-bevy-sdk-1" ] || fail "pkg-config abi variable"
ok "pkg-config finds cloud-bevy-sdk-1 $version ($abi)"

# Out of tree: a copy of the template, nothing of the project's meson.
cp -r "$src/sdk/template" "$dest/hello"
meson setup "$dest/hello-build" "$dest/hello" > "$dest/setup.log" 2>&1 || { cat "$dest/setup.log"; fail "meson setup of the template"; }
ninja -C "$dest/hello-build" > "$dest/build.log" 2>&1 || { cat "$dest/build.log"; fail "the template builds"; }
if readelf -d "$dest/hello-build/hello.so" | grep -q 'libgtk'; then fail "the core module links no GTK"; fi
readelf -d "$dest/hello-build/hello.so" | grep -q 'libcloud-bevy-sdk-1.so.1' || fail "hello.so links the SDK"
ok "sdk/template builds out of tree against the installed .pc"

repo_tool="$root/bin/cloud-bevy-repo"
"$repo_tool" init --repo "$dest/repo" --name "Hello apps" --key "$dest/hello.key" > /dev/null
"$repo_tool" add --repo "$dest/repo" "$dest/hello-build/hello.cbplugin" > /dev/null
"$repo_tool" sign --repo "$dest/repo" --key "$dest/hello.key" > /dev/null
"$repo_tool" verify --repo "$dest/repo" > "$dest/verify.log" || { cat "$dest/verify.log"; fail "verify"; }
grep -q "example.org/hello 0.1.0" "$dest/verify.log" || fail "the index lists example.org/hello 0.1.0"
ok "cloud-bevy-repo packages and signs it; verify passes"

node="$root/bin/cloud-bevy-node"
"$node" init-cloud --dir "$dest/cloud" --name sdk-test > /dev/null
"$node" apps repo-add --data-dir "$dest/node" "file://$dest/repo" > "$dest/add.log" || { cat "$dest/add.log"; fail "repo-add"; }
grep -q "publisher key fingerprint" "$dest/add.log" || fail "repo-add shows the fingerprint"
"$node" apps install --data-dir "$dest/node" hello > "$dest/install.log" || { cat "$dest/install.log"; fail "install"; }
ok "the installed cloud-bevy-node adds the repository and installs hello"

"$node" run --data-dir "$dest/node" --cloud "$dest/cloud/cloud.json" --listen 127.0.0.1:0 > "$dest/node.log" 2>&1 &
node_pid=$!
i=0
until "$node" status --data-dir "$dest/node" > /dev/null 2>&1; do
  i=$((i + 1)); [ $i -lt 300 ] || { cat "$dest/node.log"; fail "the node starts"; }
  sleep 0.1
done
"$node" apps run --data-dir "$dest/node" hello greet name=Ada > /dev/null || { cat "$dest/node.log"; fail "greet"; }
if "$node" apps run --data-dir "$dest/node" hello greet name= > /dev/null 2> "$dest/refused.log"; then fail "an empty name is refused"; fi
grep -q "1 to 40 characters" "$dest/refused.log" || fail "the refusal says why"
"$node" apps query --data-dir "$dest/node" hello recent > "$dest/query.log"
grep -q '"Ada"' "$dest/query.log" || { cat "$dest/query.log"; fail "the greeting is there"; }
grep -q "example.org/hello" "$dest/node.log" && true
ok "the node loads hello, runs its verb, applies its rule and answers its query"
