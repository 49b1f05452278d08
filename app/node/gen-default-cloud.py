#!/usr/bin/env python3
"""Writes a C file that returns the built-in cloud.json (meson -Dcloud_config)."""
import json
import sys

src, out = sys.argv[1], sys.argv[2]
with open(src, encoding="utf-8") as f:
    text = f.read()
json.loads(text)  # fail the build on a broken file, not the first start
with open(out, "w", encoding="utf-8") as f:
    f.write("/* Generated from %s by gen-default-cloud.py: do not edit. */\n" % src)
    f.write('#include "cb-cloud-config.h"\n\n')
    f.write("const char *\ncb_cloud_config_default_json (void)\n{\n  return ")
    for line in text.splitlines(True):
        f.write("\n    " + json.dumps(line))
    f.write(";\n}\n")
