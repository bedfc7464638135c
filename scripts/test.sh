#!/usr/bin/env bash
# The whole test suite: `npm test` (the README's second command). `npm test -- unit` or `-- e2e` for one tier.
# Unit tests live beside the code (src/**/*.test.ts); end-to-end tests in test/e2e/ start real
# servers and drive the real kubectl and @kubernetes/client-node.
set -euo pipefail
cd "$(dirname "$0")/.."
tier="${1:-all}"
[ -d node_modules ] || npm ci --no-audit --no-fund
files=()
if [ "$tier" = all ] || [ "$tier" = unit ]; then
  while IFS= read -r f; do files+=("$f"); done < <(find src -name '*.test.ts' | sort)
fi
if [ "$tier" = all ] || [ "$tier" = e2e ]; then
  # e2e tests run against the compiled server, like a user would
  npm run --silent build
  while IFS= read -r f; do files+=("$f"); done < <(find test/e2e -name '*.test.ts' | sort)
fi
if [ "${#files[@]}" -eq 0 ]; then echo "no test files for tier '$tier'" >&2; exit 1; fi
# One file at a time: end-to-end servers with node agents own host-wide networking (the CNI
# bridge, iptables chains, the service sink device), so two must not run at once.
exec node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-1}" --test-reporter=spec "${files[@]}"
