#!/usr/bin/env python3
"""Self-test for check-flatpak-manifest.py.

Usage:
    test-check-flatpak-manifest.py CHECKER MANIFEST MESON_OPTIONS BAD_MANIFEST

Each test takes the real manifest, breaks one thing in a copy, and asserts
that the checker reports that one thing (by its check key), and nothing
else. This shows every check can fail, not only that a good manifest passes.
"""

import copy
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import unittest

APP_ID = 'io.github.cloudbevy.CloudBevy'
COMMAND = 'cloud-bevy'

CHECKER = MANIFEST = OPTIONS = BAD_MANIFEST = None
checker = None


def load_checker(path):
    # Keep the source tree free of __pycache__ directories.
    sys.dont_write_bytecode = True
    spec = importlib.util.spec_from_file_location('check_flatpak_manifest', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ManifestMutations(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        with open(MANIFEST, encoding='utf-8') as f:
            self.base = json.load(f)
        # The copy lives elsewhere, so point its dir source at the real
        # project root with an absolute path.
        root = os.path.dirname(os.path.realpath(OPTIONS))
        app = self.base['modules'][-1]
        for source in app['sources']:
            if source.get('type') == 'dir':
                source['path'] = root

    def write(self, manifest, name='manifest.json'):
        path = os.path.join(self.tmp.name, name)
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(manifest, f)
        return path

    def check(self, manifest, options=None):
        return checker.check_manifest(self.write(manifest), APP_ID, COMMAND,
                                      options or OPTIONS)

    def assertOnly(self, problems, key):
        keys = sorted({p.check for p in problems})
        self.assertEqual(keys, [key], 'problems: %r' % (problems,))

    def mutated(self):
        return copy.deepcopy(self.base)

    def sodium(self, manifest):
        return next(m for m in manifest['modules'] if m.get('name') == 'libsodium')

    # --- the real manifest -------------------------------------------------

    def test_real_manifest_is_clean(self):
        problems = checker.check_manifest(MANIFEST, APP_ID, COMMAND, OPTIONS)
        self.assertEqual(problems, [])

    def test_copy_is_clean(self):
        self.assertEqual(self.check(self.mutated()), [])

    # --- top-level keys ----------------------------------------------------

    def test_wrong_app_id(self):
        m = self.mutated()
        m['app-id'] = APP_ID + '.Devel'
        self.assertOnly(self.check(m), 'app-id')

    def test_missing_app_id(self):
        m = self.mutated()
        del m['app-id']
        self.assertOnly(self.check(m), 'app-id')

    def test_wrong_command(self):
        m = self.mutated()
        m['command'] = 'cloud-bevy-node'
        self.assertOnly(self.check(m), 'command')

    def test_runtime_version_must_be_string(self):
        m = self.mutated()
        m['runtime-version'] = 47
        self.assertOnly(self.check(m), 'runtime')

    def test_wrong_runtime(self):
        m = self.mutated()
        m['runtime'] = 'org.freedesktop.Platform'
        self.assertOnly(self.check(m), 'runtime')

    def test_wrong_sdk(self):
        m = self.mutated()
        m['sdk'] = 'org.kde.Sdk'
        self.assertOnly(self.check(m), 'runtime')

    def test_missing_finish_arg(self):
        for arg in checker.REQUIRED_FINISH_ARGS:
            with self.subTest(arg=arg):
                m = self.mutated()
                m['finish-args'].remove(arg)
                problems = self.check(m)
                self.assertOnly(problems, 'finish-args')
                self.assertIn(arg, problems[0].message)

    def test_forbidden_finish_arg(self):
        m = self.mutated()
        m['finish-args'].append('--filesystem=home')
        self.assertOnly(self.check(m), 'finish-args')

    # --- libsodium ---------------------------------------------------------

    def test_no_sodium_module(self):
        m = self.mutated()
        m['modules'] = [x for x in m['modules'] if x.get('name') != 'libsodium']
        self.assertOnly(self.check(m), 'libsodium')

    def test_sodium_plain_http(self):
        m = self.mutated()
        src = self.sodium(m)['sources'][0]
        src['url'] = src['url'].replace('https://', 'http://')
        self.assertOnly(self.check(m), 'libsodium')

    def test_sodium_bad_sha256(self):
        for sha in ('', 'abc', 'g' * 64, 'A' * 64, None):
            with self.subTest(sha=sha):
                m = self.mutated()
                src = self.sodium(m)['sources'][0]
                if sha is None:
                    del src['sha256']
                else:
                    src['sha256'] = sha
                self.assertOnly(self.check(m), 'libsodium')

    def test_sodium_git_source_is_not_an_archive(self):
        m = self.mutated()
        self.sodium(m)['sources'] = [{'type': 'git',
                                      'url': 'https://github.com/jedisct1/libsodium.git',
                                      'tag': '1.0.20-RELEASE'}]
        self.assertOnly(self.check(m), 'libsodium')

    # --- the cloud-bevy module ---------------------------------------------

    def test_app_module_not_last(self):
        m = self.mutated()
        m['modules'].reverse()
        self.assertOnly(self.check(m), 'app-module')

    def test_app_module_wrong_buildsystem(self):
        m = self.mutated()
        m['modules'][-1]['buildsystem'] = 'cmake-ninja'
        self.assertOnly(self.check(m), 'app-module')

    def test_dir_source_elsewhere(self):
        m = self.mutated()
        m['modules'][-1]['sources'][0]['path'] = self.tmp.name
        self.assertOnly(self.check(m), 'app-module')

    def test_relative_dir_source(self):
        # The real layout: manifest in flatpak/, dir source '..'.
        root = os.path.dirname(os.path.realpath(OPTIONS))
        m = self.mutated()
        m['modules'][-1]['sources'][0]['path'] = os.path.relpath(root, self.tmp.name)
        self.assertEqual(self.check(m), [])

    def test_unknown_option(self):
        m = self.mutated()
        m['modules'][-1]['config-opts'].append('-Dno_such_option=1')
        self.assertOnly(self.check(m), 'config-opts')

    def test_bad_combo_value(self):
        m = self.mutated()
        m['modules'][-1]['config-opts'] = ['-Dprofile=nightly']
        self.assertOnly(self.check(m), 'config-opts')

    def test_bad_boolean_value(self):
        m = self.mutated()
        m['modules'][-1]['config-opts'] = ['-Dtests=yes']
        self.assertOnly(self.check(m), 'config-opts')

    def test_split_d_form(self):
        m = self.mutated()
        m['modules'][-1]['config-opts'] = ['-D', 'profile=development']
        self.assertEqual(self.check(m), [])
        m['modules'][-1]['config-opts'] = ['-D', 'profile=bogus']
        self.assertOnly(self.check(m), 'config-opts')

    def test_builtin_options(self):
        m = self.mutated()
        m['modules'][-1]['config-opts'] = ['-Dbuildtype=release', '-Db_lto=true',
                                           '--libdir=lib']
        self.assertEqual(self.check(m), [])
        m['modules'][-1]['config-opts'] = ['-Dbuildtype=fast']
        self.assertOnly(self.check(m), 'config-opts')

    def test_module_in_separate_file(self):
        m = self.mutated()
        sodium = self.sodium(m)
        self.write(sodium, 'libsodium.json')
        m['modules'] = ['libsodium.json' if x is sodium else x for x in m['modules']]
        self.assertEqual(self.check(m), [])

    def test_missing_module_file(self):
        m = self.mutated()
        m['modules'].insert(0, 'does-not-exist.json')
        self.assertOnly(self.check(m), 'modules')

    # --- unreadable input --------------------------------------------------

    def test_invalid_json(self):
        path = os.path.join(self.tmp.name, 'broken.json')
        with open(path, 'w') as f:
            f.write('{"app-id": "io.github.cloudbevy.CloudBevy",')
        problems = checker.check_manifest(path, APP_ID, COMMAND, OPTIONS)
        self.assertOnly(problems, 'manifest')

    def test_bad_options_file(self):
        path = os.path.join(self.tmp.name, 'meson_options.txt')
        with open(path, 'w') as f:
            f.write("option('x', type: 'boolean',")
        problems = self.check(self.mutated(), options=path)
        self.assertIn('meson-options', {p.check for p in problems})


class OptionsParser(unittest.TestCase):
    TEXT = """
# a comment, with option('fake') in it
option('name', type: 'string', value: 'a,b', description: 'it\\'s here')
option('mode', type : 'combo', choices : ['one', 'two'], value : 'one',
       description : '''spans
two lines''')
option('level', type: 'integer', min: -3, max: 10, value: 2)
option('parts', type: 'array', choices: ['x', 'y', 'z'], value: ['x'],)
option('gpu', type: 'feature', value: 'auto')
option('plain')
"""

    def setUp(self):
        self.options = checker._OptionsParser(self.TEXT, 'test').parse()

    def test_names_and_types(self):
        self.assertEqual(sorted(self.options),
                         ['gpu', 'level', 'mode', 'name', 'parts', 'plain'])
        self.assertEqual(self.options['mode']['choices'], ['one', 'two'])
        self.assertEqual(self.options['level']['min'], -3)
        self.assertEqual(self.options['plain']['type'], 'string')
        self.assertEqual(self.options['mode']['description'], 'spans\ntwo lines')

    def test_values(self):
        ok = checker.check_option_value
        o = self.options
        self.assertIsNone(ok(o['name'], 'anything'))
        self.assertIsNone(ok(o['mode'], 'two'))
        self.assertIsNotNone(ok(o['mode'], 'three'))
        self.assertIsNone(ok(o['level'], '-3'))
        self.assertIsNotNone(ok(o['level'], '11'))
        self.assertIsNotNone(ok(o['level'], 'ten'))
        self.assertIsNone(ok(o['parts'], 'x,z'))
        self.assertIsNone(ok(o['parts'], "['y']"))
        self.assertIsNone(ok(o['parts'], ''))
        self.assertIsNotNone(ok(o['parts'], 'x,w'))
        self.assertIsNone(ok(o['gpu'], 'disabled'))
        self.assertIsNotNone(ok(o['gpu'], 'off'))

    def test_syntax_error_is_reported(self):
        with self.assertRaises(checker.ManifestError):
            checker._OptionsParser("option('a', type: )", 'test').parse()
        with self.assertRaises(checker.ManifestError):
            checker._OptionsParser("option('a'", 'test').parse()
        with self.assertRaises(checker.ManifestError):
            checker._OptionsParser("project('a')", 'test').parse()


class CommandLine(unittest.TestCase):
    def run_checker(self, manifest):
        return subprocess.run([sys.executable, CHECKER, manifest, APP_ID, COMMAND,
                               OPTIONS], capture_output=True, text=True)

    def test_good_exits_zero(self):
        result = self.run_checker(MANIFEST)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_bad_manifest_fails_for_its_two_faults(self):
        result = self.run_checker(BAD_MANIFEST)
        self.assertEqual(result.returncode, 1)
        self.assertIn('[app-id]', result.stderr)
        self.assertIn("no option 'no_such_option'", result.stderr)
        self.assertIn('2 problem(s)', result.stderr)

    def test_usage(self):
        result = subprocess.run([sys.executable, CHECKER], capture_output=True,
                                text=True)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn('usage:', result.stderr)


if __name__ == '__main__':
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    CHECKER, MANIFEST, OPTIONS, BAD_MANIFEST = sys.argv[1:5]
    checker = load_checker(CHECKER)
    unittest.main(argv=[sys.argv[0]] + sys.argv[5:], verbosity=2)
