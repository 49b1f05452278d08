#!/bin/sh
# meson install --destdir into a temp dir, then check the installed tree and
# run the launch tests against the installed binary.
#   test-install.sh BUILD_DIR PREFIX TEST_LAUNCH
set -eu
build_dir=$1 prefix=$2 test_launch=$3

dest=$(mktemp -d "${TMPDIR:-/tmp}/cb-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT INT TERM

meson install -C "$build_dir" --destdir "$dest" --no-rebuild --quiet
root="$dest$prefix"

for f in bin/cloud-bevy \
         share/applications/io.github.cloudbevy.CloudBevy.desktop \
         share/metainfo/io.github.cloudbevy.CloudBevy.metainfo.xml \
         share/icons/hicolor/scalable/apps/io.github.cloudbevy.CloudBevy.svg \
         share/glib-2.0/schemas/io.github.cloudbevy.CloudBevy.gschema.xml; do
  if [ ! -e "$root/$f" ]; then
    echo "not installed: $prefix/$f" >&2
    exit 1
  fi
  echo "# installed $prefix/$f"
done

# Post-install scripts do not run under --destdir: compile the schemas the
# way the distribution's trigger would.
glib-compile-schemas --strict "$root/share/glib-2.0/schemas"
export GSETTINGS_SCHEMA_DIR="$root/share/glib-2.0/schemas"
export CB_BROWSER="$root/bin/cloud-bevy"
exec "$test_launch" --tap
