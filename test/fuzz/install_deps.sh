#!/bin/sh
# Installs what `make fuzz` needs beyond `make deps`: clang 14, its runtimes
# (libFuzzer, AddressSanitizer, UndefinedBehaviorSanitizer) and llvm-symbolizer
# for readable reports.  Runs apt-get only when something is missing.
set -eu
sh "$(dirname "$0")/../install_deps.sh"

packages="clang-14 libclang-rt-14-dev llvm-14"
missing=""
for p in $packages; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
echo "installing:$missing"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
