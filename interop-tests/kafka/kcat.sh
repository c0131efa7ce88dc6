#!/usr/bin/env bash
# Installs Debian's kcat (librdkafka 2.0.2 on bookworm) for the Kafka door's
# tests (broker/tests/kafka_clients.rs), unless it is installed already. Part of
# the README's test command.
set -euo pipefail
if command -v kcat >/dev/null; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq kcat >/dev/null
