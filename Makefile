# Roadside: `make run` installs what is missing and starts the appliance on the demo camera;
# `make test` runs the tests. Both work on a fresh Debian 12 machine with Node.js 20 (as root or with sudo).
SHELL := /bin/bash
SHARED ?= $(abspath ../shared)
MODELS_DIR ?= $(SHARED)/models
DEMO_CLIP ?= $(SHARED)/data/traffic/opendatacam/opendatacam_placeholder_30fps.mp4
DEMO_PORT ?= 8554
CONFIG ?= appliance/config/roadside.demo.yaml
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export MODELS_DIR

# Debian packages: ffmpeg (decode), GStreamer RTSP server + python3-gi (demo/test camera),
# mosquitto (MQTT sink tests), nats-server (JetStream sink tests), chromium (installer page tests), prometheus (promtool), systemd (unit check).
APT_PACKAGES := ffmpeg python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp gstreamer1.0-plugins-base \
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav mosquitto nats-server chromium prometheus systemd openssl \
  dpkg-dev build-essential pkg-config nasm libssl-dev xz-utils
# The last line builds the lean decoder (scripts/build-ffmpeg-lean.sh): apt-get source, a C toolchain,
# nasm for the SIMD decoders, OpenSSL linked in for rtsps://.

.PHONY: deps apt npm ffmpeg-lean build typecheck lint run demo-camera test test-unit bench clean

deps: apt npm ffmpeg-lean

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; fi

# onnxruntime-node's install script downloads CUDA add-ons from a host we cannot reach; its CPU
# library ships inside the npm package, so the script is skipped.
npm: node_modules/.package-lock.json
node_modules/.package-lock.json: package.json package-lock.json
	ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
	@touch $@

# The cameras' decoder: a lean, static ffmpeg from Debian's current security-patched source (docs/ingest.md),
# built once (~4 min of CPU: ~2 min on a quiet 2-core box); the binary is the stamp. The system ffmpeg stays for encoding test clips
# and for CUDA decode. Rebuild with `rm -rf var/ffmpeg-lean` (e.g. after a Debian security update of ffmpeg).
LEAN_FFMPEG := var/ffmpeg-lean/bin/ffmpeg
ffmpeg-lean: $(LEAN_FFMPEG)
$(LEAN_FFMPEG): | apt
	scripts/build-ffmpeg-lean.sh

build: npm
	npx tsc -p tsconfig.build.json

typecheck: npm
	npx tsc -p tsconfig.json --noEmit

lint: npm
	npx eslint appliance calibration bench test

# The demo camera: a real RTSP server on 127.0.0.1 looping a real clip.
demo-camera: apt
	@test -f "$(DEMO_CLIP)" || { echo "demo clip not found: $(DEMO_CLIP) (set DEMO_CLIP=...)"; exit 1; }
	/usr/bin/python3 appliance/demo/rtsp-loop-server.py --clip "$(DEMO_CLIP)" --port $(DEMO_PORT) --path /demo --loops 30

run: deps build
	@test -d "$(MODELS_DIR)" || { echo "models not found: $(MODELS_DIR) (set MODELS_DIR=...)"; exit 1; }
	@/usr/bin/python3 appliance/demo/rtsp-loop-server.py --clip "$(DEMO_CLIP)" --port $(DEMO_PORT) --path /demo --loops 30 & \
	  cam=$$!; trap "kill $$cam 2>/dev/null" EXIT INT TERM; \
	  for i in $$(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$(DEMO_PORT)) 2>/dev/null && break; sleep 0.2; done; \
	  echo "demo camera: rtsp://127.0.0.1:$(DEMO_PORT)/demo   installer page: http://127.0.0.1:8080/ui/ (token: demo-admin-token)"; \
	  node dist/appliance/src/main.js --config $(CONFIG)

# The unit tier: recorded real data (detections, frames), no ffmpeg, no model, no server, no browser.
# `make test-unit` runs it alone in well under a minute; `make test` runs it first with ffmpeg, the
# models out of reach (PATH holds node only, MODELS_DIR points nowhere), to prove it needs neither.
UNIT_TESTS := test/analytics.test.ts test/analytics-zones.test.ts test/api-unit.test.ts test/bins.test.ts test/hardening.test.ts test/calibration.test.ts \
  test/config.test.ts test/detect-decode.test.ts test/errors.test.ts test/events-datex.test.ts test/evidence.test.ts test/incidents.test.ts test/lanes.test.ts test/latest-per-site.test.ts test/live-feed.test.ts \
  test/replay.test.ts test/realtime.test.ts test/riders.test.ts test/track.test.ts test/counts-recorded.test.ts test/detect-roi.test.ts test/ffmpeg-binary.test.ts test/detect-enhance.test.ts
FULL_TESTS := $(filter-out $(UNIT_TESTS),$(wildcard test/*.test.ts))
UNIT_ENV := env PATH=$(CURDIR)/var/unit-bin MODELS_DIR=/nonexistent/models
NODE_TEST := node --import tsx --test --test-concurrency=1 --test-timeout=240000
# The unit tier's files share nothing (no port, no file, a simulated clock where time matters), so they
# run two at a time: most of a file's time is node starting and tsx compiling, one core each.
NODE_TEST_UNIT := node --import tsx --test --test-concurrency=2 --test-timeout=240000

test-unit: npm
	@mkdir -p var/unit-bin && ln -sf "$$(command -v node)" var/unit-bin/node
	$(UNIT_ENV) $(NODE_TEST_UNIT) $(UNIT_TESTS)

test: deps typecheck lint test-unit
	$(NODE_TEST) $(FULL_TESTS)

bench: deps
	npx tsx bench/run.ts

clean:
	rm -rf dist var test/artifacts
