# Sourced by the scripts that need a Debian package on the machine (scripts/scaleout,
# scripts/sweep). Needs `log` and `die` defined by the caller.
#
# ensure_package COMMAND PACKAGE LOG: installs Debian's PACKAGE with apt-get (sudo if not root)
# when COMMAND is missing; apt-get update and one retry if the first install fails. The apt
# output goes to LOG.
APT_TIMEOUT="${APT_TIMEOUT:-900}" # seconds per apt-get call
SUDO=()
ensure_package() {
  local cmd=$1 pkg=$2 apt_log=$3
  command -v "$cmd" >/dev/null && return 0
  [[ -x "/usr/sbin/$cmd" ]] && return 0
  command -v apt-get >/dev/null || die "$cmd is missing and there is no apt-get to install Debian's $pkg"
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "$cmd is missing; installing $pkg needs root or sudo"
    SUDO=(sudo)
  fi
  apt_install() {
    timeout "$APT_TIMEOUT" "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends "$pkg" >>"$apt_log" 2>&1
  }
  log "$pkg: installing Debian's package (log: $apt_log)"
  if ! apt_install; then
    log "$pkg: install failed; running apt-get update and retrying"
    timeout "$APT_TIMEOUT" "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$apt_log" 2>&1 ||
      { tail -n 20 "$apt_log" >&2; die "apt-get update failed"; }
    apt_install || { tail -n 20 "$apt_log" >&2; die "apt-get install $pkg failed"; }
  fi
}
