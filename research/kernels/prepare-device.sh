#!/usr/bin/env bash
# Issue 23, Build 5: packs what research/kernels/device-bench.sh needs on the device machine, which
# has no Node and no network: a single-file bundle of bench/node.ts (tfjs, the engine, our kernels),
# the `webgpu` package's index.js and Dawn's dawn.node (xz), this machine's Node binary (xz), and the
# Vulkan loader's Debian packages (the device notes: /work/.library/device/README.md). About 35 MB
# in .device/ (git-ignored), under the 64 MiB a call may carry. Run here, from the repository root:
#   bash research/kernels/prepare-device.sh
# then, on a task lent a device machine, one call of the device tool:
#   run(command="bash research/kernels/device-bench.sh", carry=[".device"], timeout_s=560)
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .device
mkdir -p .device/node_modules/webgpu/dist/linux-x64 .device/gl
npx esbuild bench/node.ts --bundle --platform=node --format=esm --target=node20 \
  --outfile=.device/bench-node.mjs --external:webgpu --log-level=warning \
  --banner:js="import { createRequire as fewshotCreateRequire } from 'module'; const require = fewshotCreateRequire(import.meta.url);"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js .device/node_modules/webgpu/
xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > .device/dawn.node.xz
xz -T2 -6 -c "$(readlink -f "$(command -v node)")" > .device/node.xz
# The Vulkan loader and GL libraries, unpacked over / on the device before the run.
(cd .device/gl && apt-get download libvulkan1 >/dev/null)
du -sh .device
