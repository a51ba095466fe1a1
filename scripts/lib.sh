# Shared set-up for scripts/start and scripts/test; sourced, not run.
#
# Everything here is safe to rerun: Debian packages are installed only when
# dpkg-query says they are missing (so a rerun does no apt work), and the
# virtual environment is reinstalled only when pyproject.toml changed since
# the last install (its hash is kept in .venv/.servin-installed), and made
# again only when the interpreter chosen (servin_find_python) is not the one
# it was made with (kept in .venv/.servin-python).

set -euo pipefail

SERVIN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVIN_VENV="$SERVIN_ROOT/.venv"

# What the runtime and the tests call: OCI runtimes, conmon, CNI plugins, a
# registry for the tests, busybox for test root filesystems, skopeo and
# podman to check interoperability, init processes, tmux for TUI tests,
# containerd for the CRI benchmark's test (bench/cri).
SERVIN_APT_PACKAGES=(
    runc crun conmon containernetworking-plugins docker-registry
    busybox-static iptables nftables apache2-utils skopeo podman
    catatonit tini tmux zstd containerd
)

servin_log() {
    printf '==> %s\n' "$*" >&2
}

# Run as root, or through sudo when we are not root.
servin_as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    else
        sudo "$@"
    fi
}

# The interpreter the virtual environment is made with: $SERVIN_PYTHON when
# set (and then only it); else the distribution's /usr/bin/python3; else the
# first python3 on PATH; each only if it is 3.11 or newer. Nothing when none
# is.
#
# The distribution's comes first because every command starts an
# interpreter and imports its modules: Debian builds Python with profile
# guided and link-time optimization into one executable, while a Python
# built from source by hand or by pyenv usually has neither and a shared
# libpython. Here pyenv's 3.11 imports Servin's run path with about 20% more
# CPU than Debian's (`run --rm busybox true`: 175 -> 145 ms of CPU).
servin_find_python() {
    local candidates=(/usr/bin/python3 python3.13 python3.12 python3.11 python3)
    if [[ -n ${SERVIN_PYTHON:-} ]]; then
        # The one asked for, or none: never another behind the user's back.
        candidates=("$SERVIN_PYTHON")
    fi
    local candidate
    for candidate in "${candidates[@]}"; do
        # What it prints, not its status: any program exits 0 on success.
        if command -v "$candidate" >/dev/null 2>&1 && [[ $("$candidate" -c \
            'import sys; print(sys.version_info >= (3, 11))' 2>/dev/null) == True ]]; then
            command -v "$candidate"
            return 0
        fi
    done
    if [[ -n ${SERVIN_PYTHON:-} ]]; then
        servin_log "SERVIN_PYTHON=$SERVIN_PYTHON is not a python 3.11 or newer"
    fi
    return 1
}

# Debian's docker-registry starts a registry on :5000 when installed. Nothing
# of ours uses it (the tests start their own on free ports), so keep it from
# starting during the install and stop it if it started anyway.
servin_stop_packaged_registry() {
    if [[ -d /run/systemd/system ]]; then
        servin_as_root systemctl disable --now docker-registry >/dev/null 2>&1 || true
    elif [[ -x /etc/init.d/docker-registry ]]; then
        servin_as_root /etc/init.d/docker-registry stop >/dev/null 2>&1 || true
    fi
}

# Those of the given packages that dpkg does not list as installed.
servin_missing_packages() {
    local installed
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" 2>/dev/null |
        awk '$2 == "installed" { print $1 }') || true
    local package
    for package in "$@"; do
        grep -qxF "$package" <<<"$installed" || printf '%s\n' "$package"
    done
}

servin_install_packages() {
    local missing=()
    mapfile -t missing < <(servin_missing_packages "${SERVIN_APT_PACKAGES[@]}")
    if ! servin_find_python >/dev/null; then
        missing+=(python3 python3-venv)
    elif ! "$(servin_find_python)" -c 'import ensurepip' >/dev/null 2>&1; then
        # Debian's python3 cannot make a virtual environment without it.
        missing+=(python3-venv)
    fi
    if [[ ${#missing[@]} -eq 0 ]]; then
        return 0
    fi

    servin_log "installing Debian packages: ${missing[*]}"
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [[ ! -e $policy ]]; then
        # 101 = "action forbidden": packages install without starting services.
        printf '#!/bin/sh\nexit 101\n' | servin_as_root tee "$policy" >/dev/null
        servin_as_root chmod 755 "$policy"
        made_policy=1
    fi
    local status=0
    servin_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || status=$?
    if [[ $status -eq 0 ]]; then
        servin_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            "${missing[@]}" </dev/null || status=$?
    fi
    if [[ $made_policy -eq 1 ]]; then
        servin_as_root rm -f "$policy"
    fi
    if [[ " ${missing[*]} " == *" docker-registry "* ]]; then
        servin_stop_packaged_registry
    fi
    return "$status"
}

servin_setup_venv() {
    local python
    python=$(servin_find_python) || {
        servin_log "no python 3.11 or newer (set SERVIN_PYTHON, or install python3)"
        return 1
    }
    # The environment is made again when it does not run, or when it was
    # made with another interpreter than the one chosen now (a checkout
    # whose environment came from an earlier choice, or SERVIN_PYTHON set).
    local made_with=""
    [[ -f $SERVIN_VENV/.servin-python ]] && made_with=$(<"$SERVIN_VENV/.servin-python")
    if [[ ! -x $SERVIN_VENV/bin/python ]] || ! "$SERVIN_VENV/bin/python" -c '' 2>/dev/null ||
        [[ $made_with != "$python" ]]; then
        servin_log "creating $SERVIN_VENV with $python"
        rm -rf "$SERVIN_VENV"
        "$python" -m venv "$SERVIN_VENV"
        printf '%s\n' "$python" >"$SERVIN_VENV/.servin-python"
    fi

    # A plain path entry for the editable install ("compat"): the default
    # mode installs an import hook that every command pays for at start-up.
    local mode=compat stamp="$SERVIN_VENV/.servin-installed" want have=""
    want="$(sha256sum "$SERVIN_ROOT/pyproject.toml" | cut -d' ' -f1) $mode"
    [[ -f $stamp ]] && have=$(<"$stamp")
    if [[ $want == "$have" ]]; then
        return 0
    fi
    servin_log "installing Servin and its test tools into $SERVIN_VENV"
    (cd "$SERVIN_ROOT" && "$SERVIN_VENV/bin/python" -m pip install -q \
        --config-settings "editable_mode=$mode" -e '.[test]')
    printf '%s\n' "$want" >"$stamp"
}

servin_setup() {
    servin_install_packages
    servin_setup_venv
}
