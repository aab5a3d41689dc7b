#!/usr/bin/env bash
# bench/cipher_bench.sh: builds bench/cipher_bench.c against this tree's crypto and block codec
# and runs it: seal and open throughput of 4 KiB blocks per vault cipher, medians and spread of
# alternating rounds, ratio to XChaCha20-Poly1305 measured in the same run.
# Usage: bash bench/cipher_bench.sh [ROUNDS [MiB per run]]   (defaults 7 and 256)
# Must never write outside build/bench.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
make -s build/crypto/aead.o build/crypto/secret.o build/format/block.o >/dev/null
mkdir -p build/bench
cc -O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I. bench/cipher_bench.c \
	build/crypto/aead.o build/crypto/secret.o build/format/block.o -lsodium \
	-o build/bench/cipher_bench
exec build/bench/cipher_bench "$@"
