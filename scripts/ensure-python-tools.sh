#!/usr/bin/env bash
# moto[server] and cfn-lint come from the machine's Python when importable; elsewhere pip brings them.
set -euo pipefail
py=$(command -v python3 || command -v python)
missing=()
"$py" -c 'import moto.server' 2>/dev/null || missing+=("moto[server]")
"$py" -c 'import cfnlint' 2>/dev/null || missing+=("cfn-lint")
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} with pip" >&2
  "$py" -m pip install --quiet "${missing[@]}"
fi
command -v moto_server >/dev/null || { echo "moto_server is not on PATH after install" >&2; exit 2; }
command -v cfn-lint >/dev/null || { echo "cfn-lint is not on PATH after install" >&2; exit 2; }
