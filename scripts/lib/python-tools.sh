# The Python tools the tests and the benchmarks run against the sandbox, pinned once for both:
# sourced by scripts/test and scripts/bench from the repository root.
#
#   ensure_python_tools   create or repair .venv/ with exactly these versions (only when needed)

AWSCLI_VERSION="1.45.11"
MOTO_VERSION="5.2.1"
VENV=".venv"
PYTHON="${PYTHON:-python3}"

# Run as root, or through sudo when there is one.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        echo "error: '$*' needs root and sudo is not available" >&2
        return 1
    fi
}

APT_UPDATED=0
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: cannot install $* (no apt-get on this machine); install it by hand" >&2
        return 1
    fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

# Whether .venv has exactly the pinned versions (and moto's server extras).
venv_ok() {
    [ -x "$VENV/bin/python" ] && [ -x "$VENV/bin/aws" ] && [ -x "$VENV/bin/moto_server" ] || return 1
    "$VENV/bin/python" - "$AWSCLI_VERSION" "$MOTO_VERSION" <<'PY' >/dev/null 2>&1
import sys
from importlib.metadata import version
assert version("awscli") == sys.argv[1], version("awscli")
assert version("moto") == sys.argv[2], version("moto")
import flask, flask_cors  # moto[server]
PY
}

create_venv() {
    rm -rf "$VENV"
    if "$PYTHON" -m venv "$VENV"; then
        return 0
    fi
    # Debian's python3 keeps ensurepip in a separate package.
    echo "python3 -m venv failed; installing the Debian venv package and retrying"
    rm -rf "$VENV"
    local minor
    minor="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    apt_install python3-venv || true
    apt_install "python${minor}-venv" || true
    "$PYTHON" -m venv "$VENV"
}

ensure_python_tools() {
    if venv_ok; then
        echo "already installed"
    else
        if ! command -v "$PYTHON" >/dev/null 2>&1; then
            echo "python3 not found; installing it"
            apt_install python3 python3-venv
        fi
        # A venv whose interpreter is gone or broken is rebuilt; otherwise pip moves the pins.
        if ! { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; }; then
            echo "creating ${VENV} with $("$PYTHON" --version 2>&1)"
            create_venv
        fi
        "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q \
            "awscli==${AWSCLI_VERSION}" "moto[server]==${MOTO_VERSION}"
        if ! venv_ok; then
            echo "error: ${VENV} still does not have awscli==${AWSCLI_VERSION} and moto[server]==${MOTO_VERSION}" >&2
            exit 1
        fi
    fi
}
