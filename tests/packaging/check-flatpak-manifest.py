#!/usr/bin/env python3
"""Check Cloud Bevy's Flatpak manifest against the project it builds.

Usage:
    check-flatpak-manifest.py MANIFEST APP_ID COMMAND MESON_OPTIONS

MANIFEST       the flatpak-builder JSON manifest
APP_ID         the app id the manifest must declare
COMMAND        the command the manifest must run
MESON_OPTIONS  the project's meson_options.txt (or meson.options)

Every problem found is printed on stderr as "error: [check] message" and the
exit status is 1. A clean manifest prints one line on stdout and exits 0.
Only the Python standard library is used, so the check runs anywhere the
tests do, without flatpak-builder.
"""

import json
import os
import re
import sys

REQUIRED_RUNTIME = 'org.gnome.Platform'
REQUIRED_SDK = 'org.gnome.Sdk'
REQUIRED_RUNTIME_VERSION = '47'

REQUIRED_FINISH_ARGS = (
    '--share=network',
    '--share=ipc',
    '--socket=wayland',
    '--socket=fallback-x11',
    '--socket=pulseaudio',
    '--device=dri',
    '--filesystem=xdg-download',
)

# Holes in the sandbox a browser has no business asking for.
FORBIDDEN_FINISH_ARGS = {
    '--filesystem=host': 'gives access to every file on the machine',
    '--filesystem=host-os': 'gives access to the host operating system',
    '--filesystem=home': 'gives access to the whole home directory',
    '--socket=session-bus': 'gives unfiltered access to the session bus',
    '--socket=system-bus': 'gives unfiltered access to the system bus',
}

SODIUM_MODULE = 'libsodium'
APP_MODULE = 'cloud-bevy'
PROJECT_NAME = 'cloud-bevy'

SHA256_RE = re.compile(r'^[0-9a-f]{64}$')


class Problem:
    """One failed check: a short key naming the check, and a message."""

    def __init__(self, check, message):
        self.check = check
        self.message = message

    def __str__(self):
        return '[%s] %s' % (self.check, self.message)

    def __repr__(self):
        return 'Problem(%r, %r)' % (self.check, self.message)


class ManifestError(Exception):
    """A file could not be read or parsed at all."""


# --------------------------------------------------------------------------
# meson_options.txt
#
# The options file uses a small part of the meson language: calls of
# option() with string, number, boolean and array literals. This is a tiny
# tokenizer and parser for exactly that part.

_TOKEN_RE = re.compile(r'''
      (?P<ws>[ \t\r\n]+)
    | (?P<comment>\#[^\n]*)
    | (?P<mstring>\'\'\'(?:.|\n)*?\'\'\')
    | (?P<string>\'(?:\\.|[^\\'\n])*\')
    | (?P<number>0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<punct>[()\[\]{},:\-])
''', re.VERBOSE)

_ESCAPES = {'n': '\n', 't': '\t', 'r': '\r', '\\': '\\', "'": "'", '"': '"',
            '0': '\0'}


def _unescape(body):
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == '\\' and i + 1 < len(body):
            out.append(_ESCAPES.get(body[i + 1], '\\' + body[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def _tokenize(text, filename):
    tokens = []
    pos = 0
    line = 1
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise ManifestError('%s:%d: cannot parse %r'
                                % (filename, line, text[pos:pos + 20]))
        kind = m.lastgroup
        value = m.group(kind)
        if kind == 'mstring':
            tokens.append(('string', value[3:-3], line))
        elif kind == 'string':
            tokens.append(('string', _unescape(value[1:-1]), line))
        elif kind == 'number':
            tokens.append(('number', int(value, 0), line))
        elif kind in ('ident', 'punct'):
            tokens.append((kind, value, line))
        line += value.count('\n')
        pos = m.end()
    # Two end markers, so looking one token ahead never runs off the end.
    tokens.append(('eof', None, line))
    tokens.append(('eof', None, line))
    return tokens


class _OptionsParser:
    def __init__(self, text, filename):
        self.filename = filename
        self.tokens = _tokenize(text, filename)
        self.pos = 0

    def _peek(self):
        return self.tokens[self.pos]

    def _next(self):
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def _error(self, tok, what):
        return ManifestError('%s:%d: expected %s, found %r'
                             % (self.filename, tok[2], what, tok[1]))

    def _at(self, punct):
        tok = self._peek()
        return tok[0] == 'punct' and tok[1] == punct

    def _expect(self, kind, value=None):
        tok = self._next()
        if tok[0] != kind or (value is not None and tok[1] != value):
            raise self._error(tok, value or kind)
        return tok

    def _value(self):
        tok = self._next()
        kind, value = tok[0], tok[1]
        if kind in ('string', 'number'):
            return value
        if kind == 'ident' and value in ('true', 'false'):
            return value == 'true'
        if kind == 'punct' and value == '-':
            return -self._expect('number')[1]
        if kind == 'punct' and value == '[':
            items = []
            while not self._at(']'):
                items.append(self._value())
                if self._at(','):
                    self._next()
                elif not self._at(']'):
                    raise self._error(self._peek(), "',' or ']'")
            self._next()
            return items
        raise self._error(tok, 'a value')

    def _call_args(self):
        args, kwargs = [], {}
        self._expect('punct', '(')
        while not self._at(')'):
            tok = self._peek()
            nxt = self.tokens[self.pos + 1]
            if tok[0] == 'ident' and nxt[0] == 'punct' and nxt[1] == ':':
                self._next()
                self._next()
                kwargs[tok[1]] = self._value()
            else:
                args.append(self._value())
            if self._at(','):
                self._next()
            elif not self._at(')'):
                raise self._error(self._peek(), "',' or ')'")
        self._next()
        return args, kwargs

    def parse(self):
        options = {}
        while self._peek()[0] != 'eof':
            tok = self._expect('ident')
            if tok[1] != 'option':
                raise self._error(tok, 'option(...)')
            args, kwargs = self._call_args()
            if len(args) != 1 or not isinstance(args[0], str):
                raise ManifestError('%s:%d: option() needs one name'
                                    % (self.filename, tok[2]))
            kwargs.setdefault('type', 'string')
            options[args[0]] = kwargs
        return options


def parse_meson_options(path):
    """Return {name: {'type': ..., 'choices': ..., ...}} for an options file."""
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
    except OSError as e:
        raise ManifestError('cannot read meson options %s: %s'
                            % (path, e.strerror))
    return _OptionsParser(text, path).parse()


def _array_items(value):
    value = value.strip()
    if value.startswith('['):
        parsed = _OptionsParser(value, 'value')._value()
        if not isinstance(parsed, list):
            raise ValueError
        return parsed
    return value.split(',') if value else []


def check_option_value(spec, value):
    """Return None if value suits the option spec, else the reason it does not."""
    kind = spec.get('type', 'string')
    choices = spec.get('choices')
    if kind == 'string':
        return None
    if kind == 'boolean':
        if value not in ('true', 'false'):
            return "a boolean option takes 'true' or 'false'"
        return None
    if kind == 'combo':
        if choices is None or value not in choices:
            return 'allowed values are %s' % ', '.join(choices or [])
        return None
    if kind == 'feature':
        if value not in ('enabled', 'disabled', 'auto'):
            return "a feature option takes 'enabled', 'disabled' or 'auto'"
        return None
    if kind == 'integer':
        try:
            number = int(value, 10)
        except ValueError:
            return 'an integer option takes a whole number'
        if 'min' in spec and number < spec['min']:
            return 'the minimum is %d' % spec['min']
        if 'max' in spec and number > spec['max']:
            return 'the maximum is %d' % spec['max']
        return None
    if kind == 'array':
        try:
            items = _array_items(value)
        except (ValueError, ManifestError):
            return 'not a valid array value'
        if choices is not None:
            bad = [i for i in items if i not in choices]
            if bad:
                return '%s not among %s' % (', '.join(map(str, bad)),
                                            ', '.join(choices))
        return None
    return "unknown option type '%s' in the options file" % kind


# Options meson itself defines; a manifest may set these as well.
_BOOL = {'type': 'boolean'}
BUILTIN_OPTIONS = {
    'buildtype': {'type': 'combo', 'choices': ['plain', 'debug', 'debugoptimized',
                                               'release', 'minsize', 'custom']},
    'debug': _BOOL,
    'optimization': {'type': 'combo', 'choices': ['plain', '0', 'g', '1', '2',
                                                  '3', 's']},
    'warning_level': {'type': 'combo', 'choices': ['0', '1', '2', '3',
                                                   'everything']},
    'werror': _BOOL,
    'strip': _BOOL,
    'unity': {'type': 'combo', 'choices': ['on', 'off', 'subprojects']},
    'default_library': {'type': 'combo', 'choices': ['shared', 'static', 'both']},
    'prefer_static': _BOOL,
    'wrap_mode': {'type': 'combo', 'choices': ['default', 'nofallback',
                                               'nodownload', 'forcefallback',
                                               'nopromote']},
    'auto_features': {'type': 'combo', 'choices': ['enabled', 'disabled', 'auto']},
}
for _name in ('prefix', 'bindir', 'datadir', 'includedir', 'infodir', 'libdir',
              'libexecdir', 'localedir', 'localstatedir', 'mandir', 'sbindir',
              'sharedstatedir', 'sysconfdir', 'pkg_config_path',
              'cmake_prefix_path', 'force_fallback_for', 'install_umask',
              'c_args', 'c_link_args', 'c_std', 'cpp_args', 'cpp_link_args',
              'cpp_std'):
    BUILTIN_OPTIONS[_name] = {'type': 'string'}


def _builtin_spec(name):
    if name in BUILTIN_OPTIONS:
        return BUILTIN_OPTIONS[name]
    if name.startswith('b_'):
        return {'type': 'string'}
    return None


# --------------------------------------------------------------------------
# The manifest


def _load_json(path, what):
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except OSError as e:
        raise ManifestError('cannot read %s %s: %s' % (what, path, e.strerror))
    except ValueError as e:
        raise ManifestError('%s %s is not valid JSON: %s' % (what, path, e))


def _collect_modules(modules, base_dir, problems, depth=0):
    """Flatten modules into [(module, dir its relative paths start from)].

    A module may be given inline or as the path of a JSON file holding it,
    and may hold further modules of its own.
    """
    found = []
    if not isinstance(modules, list):
        problems.append(Problem('modules', "'modules' must be a list"))
        return found
    for entry in modules:
        module_dir = base_dir
        if isinstance(entry, str):
            path = os.path.join(base_dir, entry)
            try:
                entry = _load_json(path, 'module file')
            except ManifestError as e:
                problems.append(Problem('modules', str(e)))
                continue
            module_dir = os.path.dirname(path)
        if not isinstance(entry, dict):
            problems.append(Problem('modules',
                                    'a module must be an object or a file name'))
            continue
        found.append((entry, module_dir, depth))
        found.extend(_collect_modules(entry.get('modules', []), module_dir,
                                      problems, depth + 1))
    return found


def _sources(module):
    sources = module.get('sources', [])
    return [s for s in sources if isinstance(s, dict)] if isinstance(sources, list) else []


def _check_sodium(modules, problems):
    sodium = [m for m, _, _ in modules if m.get('name') == SODIUM_MODULE]
    if not sodium:
        problems.append(Problem('libsodium', "no module named '%s'" % SODIUM_MODULE))
        return
    archives = [s for s in _sources(sodium[0]) if s.get('type') == 'archive']
    if not archives:
        problems.append(Problem('libsodium',
                                'the libsodium module has no archive source'))
        return
    for source in archives:
        url = source.get('url')
        sha = source.get('sha256')
        if not isinstance(url, str) or not url.startswith('https://'):
            problems.append(Problem('libsodium',
                                    'archive url %r is not an https:// URL' % (url,)))
        if not isinstance(sha, str) or not SHA256_RE.match(sha):
            problems.append(Problem('libsodium',
                                    'archive sha256 %r is not 64 lowercase hex digits'
                                    % (sha,)))


def _meson_project_name(meson_build):
    try:
        with open(meson_build, encoding='utf-8') as f:
            text = f.read()
    except OSError:
        return None
    # Skip comments so a commented-out project() cannot match.
    text = re.sub(r'#[^\n]*', '', text)
    m = re.search(r"\bproject\s*\(\s*'([^']*)'", text)
    return m.group(1) if m else None


def _config_opt_pairs(opts):
    """Yield the NAME=VALUE text of each -D option, in -Dx=y or -D x=y form."""
    i = 0
    while i < len(opts):
        opt = opts[i]
        if opt == '-D' and i + 1 < len(opts):
            yield opts[i + 1]
            i += 2
            continue
        if isinstance(opt, str) and opt.startswith('-D'):
            yield opt[2:]
        i += 1


def _check_config_opts(module, options, problems):
    opts = module.get('config-opts', [])
    if not isinstance(opts, list) or not all(isinstance(o, str) for o in opts):
        problems.append(Problem('config-opts', "'config-opts' must be a list of strings"))
        return
    for pair in _config_opt_pairs(opts):
        if '=' not in pair:
            problems.append(Problem('config-opts',
                                    "-D%s has no '=value'" % pair))
            continue
        name, value = pair.split('=', 1)
        spec = options.get(name)
        if spec is None:
            spec = _builtin_spec(name)
        if spec is None:
            problems.append(Problem('config-opts',
                                    "-D%s: there is no option '%s' in the meson options"
                                    % (pair, name)))
            continue
        reason = check_option_value(spec, value)
        if reason:
            problems.append(Problem('config-opts',
                                    "-D%s: '%s' is not valid for option '%s': %s"
                                    % (pair, value, name, reason)))


def _check_app_module(modules, options, options_path, problems):
    top = [(m, d) for m, d, depth in modules if depth == 0]
    if not top:
        problems.append(Problem('app-module', 'the manifest has no modules'))
        return
    module, module_dir = top[-1]
    if module.get('name') != APP_MODULE:
        problems.append(Problem('app-module',
                                "the last module is %r, expected '%s'"
                                % (module.get('name'), APP_MODULE)))
        return
    if module.get('buildsystem') != 'meson':
        problems.append(Problem('app-module',
                                "buildsystem is %r, expected 'meson'"
                                % (module.get('buildsystem'),)))
    dirs = [s for s in _sources(module) if s.get('type') == 'dir']
    if not dirs:
        problems.append(Problem('app-module',
                                "the %s module has no 'dir' source" % APP_MODULE))
    for source in dirs:
        path = source.get('path')
        if not isinstance(path, str):
            problems.append(Problem('app-module', "a 'dir' source has no path"))
            continue
        root = os.path.realpath(os.path.join(module_dir, path))
        name = _meson_project_name(os.path.join(root, 'meson.build'))
        if name != PROJECT_NAME:
            problems.append(Problem('app-module',
                                    "dir source %r resolves to %s, which is not the "
                                    "'%s' meson project" % (path, root, PROJECT_NAME)))
            continue
        options_root = os.path.dirname(os.path.realpath(options_path))
        if root != options_root:
            problems.append(Problem('app-module',
                                    'dir source %r resolves to %s, but the options '
                                    'file checked is in %s'
                                    % (path, root, options_root)))
    _check_config_opts(module, options, problems)


def check_manifest(manifest_path, app_id, command, options_path):
    """Return the list of Problems found; an empty list means the manifest is fine."""
    problems = []
    try:
        manifest = _load_json(manifest_path, 'manifest')
    except ManifestError as e:
        return [Problem('manifest', str(e))]
    if not isinstance(manifest, dict):
        return [Problem('manifest', 'the manifest is not a JSON object')]
    try:
        options = parse_meson_options(options_path)
    except ManifestError as e:
        problems.append(Problem('meson-options', str(e)))
        options = None

    found_id = manifest.get('app-id', manifest.get('id'))
    if found_id != app_id:
        problems.append(Problem('app-id', 'app-id is %r, expected %r'
                                % (found_id, app_id)))
    if manifest.get('command') != command:
        problems.append(Problem('command', 'command is %r, expected %r'
                                % (manifest.get('command'), command)))

    for key, expected in (('runtime', REQUIRED_RUNTIME), ('sdk', REQUIRED_SDK),
                          ('runtime-version', REQUIRED_RUNTIME_VERSION)):
        if manifest.get(key) != expected:
            problems.append(Problem('runtime', '%s is %r, expected %r (a string)'
                                    % (key, manifest.get(key), expected)))

    finish_args = manifest.get('finish-args', [])
    if not isinstance(finish_args, list):
        problems.append(Problem('finish-args', "'finish-args' must be a list"))
        finish_args = []
    for arg in REQUIRED_FINISH_ARGS:
        if arg not in finish_args:
            problems.append(Problem('finish-args', 'missing %s' % arg))
    for arg in finish_args:
        if arg in FORBIDDEN_FINISH_ARGS:
            problems.append(Problem('finish-args', '%s %s'
                                    % (arg, FORBIDDEN_FINISH_ARGS[arg])))

    modules = _collect_modules(manifest.get('modules', []),
                               os.path.dirname(os.path.abspath(manifest_path)),
                               problems)
    _check_sodium(modules, problems)
    if options is not None:
        _check_app_module(modules, options, options_path, problems)
    return problems


def main(argv):
    if len(argv) != 5:
        sys.stderr.write('usage: %s MANIFEST APP_ID COMMAND MESON_OPTIONS\n'
                         % os.path.basename(argv[0]))
        return 2
    manifest_path, app_id, command, options_path = argv[1:]
    problems = check_manifest(manifest_path, app_id, command, options_path)
    if problems:
        for problem in problems:
            sys.stderr.write('error: %s\n' % problem)
        sys.stderr.write('%s: %d problem(s) found\n' % (manifest_path, len(problems)))
        return 1
    print('%s: OK' % manifest_path)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
