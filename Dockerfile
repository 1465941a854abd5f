# poolwatch: the log follower, metrics exporter and alerter, as a container image.
#
#   docker build -t poolwatch:local .        (docker-compose.yml does this for you)
#
# The build stage installs the build subset of scripts/install-deps.sh's package list (the
# list CI builds and tests with; a test checks that every package named here is on it), so
# the image is built against exactly what was tested. Keep the apt-get line identical to
# demo/Dockerfile's: Docker then builds that layer once for both images.
FROM debian:12-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      prometheus-cpp-dev libcivetweb-dev libcurl4-openssl-dev libyaml-cpp-dev zlib1g-dev \
      libcli11-dev nlohmann-json3-dev libprotobuf-dev protobuf-compiler libsnappy-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the build reads (a test checks that each add_subdirectory of the top-level
# CMakeLists.txt is copied), so edits to docs, tests or dashboards do not rebuild the image.
COPY CMakeLists.txt ./
COPY core core
COPY exporter exporter
COPY alerting alerting
COPY web web
COPY remote_write remote_write
COPY config config
COPY demo demo
COPY app app
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DPOOLWATCH_BUILD_TESTS=OFF -DPOOLWATCH_BUILD_BENCH=OFF \
 && ninja -C /build poolwatch \
 && install -D -m 755 /build/app/poolwatch /out/usr/local/bin/poolwatch \
 && install -D -m 644 -t /out/usr/local/lib/poolwatch /build/app/libpoolwatch-tls-*.so

# The runtime stage has only the shared libraries poolwatch links (a test checks this list
# against the NEEDED entries of the built binary) and ca-certificates for HTTPS to Slack.
# libssl3 also serves --web.config.file's TLS, through the shims in /usr/local/lib/poolwatch.
FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libcivetweb1 libcurl4 libprometheus-cpp-core1.0 libyaml-cpp0.7 \
      libcrypt1 libssl3 zlib1g libprotobuf-lite32 libsnappy1v5 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --shell /usr/sbin/nologin poolwatch \
 && install -d -o poolwatch -g poolwatch -m 750 /var/lib/poolwatch
COPY --from=build /out/ /
# nginx writes the access log as root with mode 644: reading it needs no privileges.
# /var/lib/poolwatch is for --state.path: a volume mounted there starts with its owner.
USER poolwatch
EXPOSE 10090
ENTRYPOINT ["/usr/local/bin/poolwatch"]
CMD ["--log.path=/var/log/poolwatch/access.log", "--web.listen-address=0.0.0.0:10090"]
