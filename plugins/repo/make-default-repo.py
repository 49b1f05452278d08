#!/usr/bin/env python3
"""Build the offline default repository from the bundled plugins.

    make-default-repo.py CLOUD-BEVY-REPO KEY OUTDIR MANIFEST...

The repository is made afresh with cloud-bevy-repo, exactly as a publisher
would: init (the key is created on the first build and kept in the build
directory, never installed), add every plugin (the tool loads each one to
check it), sign.  Its trust comes from being installed with the app, so it
is valid for ten years; its index version is the build time
(SOURCE_DATE_EPOCH when set), so a newer build always has a newer index.
"""
import os
import shutil
import subprocess
import sys
import time

tool, key, out, manifests = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
env = dict(os.environ)
# A build step, not a test: the sanitized build's leak report is not ours to act on here.
env['ASAN_OPTIONS'] = 'detect_leaks=0'
version = os.environ.get('SOURCE_DATE_EPOCH') or str(int(time.time()))


def run(*args):
    result = subprocess.run([tool, *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"cloud-bevy-repo {args[0]}: {result.stderr.strip()}")


os.makedirs(os.path.dirname(key), exist_ok=True)
if not os.path.exists(key):
    run('keygen', '--key', key)
staging = out + '.tmp'
shutil.rmtree(staging, ignore_errors=True)
run('init', '--repo', staging, '--name', 'Cloud Bevy apps', '--key', key,
    '--root-expires-days', '3650', '--expires-days', '3650')
for manifest in manifests:
    run('add', '--repo', staging, manifest)
run('sign', '--repo', staging, '--key', key, '--expires-days', '3650', '--version', version)
run('verify', '--repo', staging)
os.makedirs(out, exist_ok=True)
for name in os.listdir(staging):
    shutil.copyfile(os.path.join(staging, name), os.path.join(out, name))
shutil.rmtree(staging)
