#!/usr/bin/env bash
# Apache Kafka's jars (broker, clients, tools, Streams, Connect, MirrorMaker 2) from the Maven
# registry into packages/e2e/java/lib (git-ignored), for the Java compatibility tests and the
# side-by-side benchmarks. Re-resolves when the pom changes; installs Java 17 and Maven from
# Debian when missing (as root).
set -euo pipefail
cd "$(dirname "$0")/../packages/e2e/java"
missing=()
command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "kafka-jars: missing ${missing[*]}; install them with apt-get as root" >&2
    exit 1
  fi
fi
if [ -f lib/.resolved ] && [ lib/.resolved -nt pom.xml ]; then exit 0; fi
rm -rf lib
mvn -q -B -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory=lib
ls lib/kafka-clients-*.jar >/dev/null
touch lib/.resolved
