#!/usr/bin/env bash
# Issue 23, Build 5, on the device machine (one call; see research/kernels/prepare-device.sh):
# 1. what Vulkan the machine has (ICD files, the loader, the driver) -> $OUT/vulkan.txt;
# 2. if Dawn finds a GPU adapter: the training step on it, node-webgpu, our kernels and the stock
#    ops, classifier/prompt/MLM at batch 16 x 128 for tiny, mini and base -> $OUT/node-webgpu.txt;
# 3. the same steps in PyTorch on the GPU (bench/torch_step.py, --device cuda) -> $OUT/torch.txt.
# Locally (SwiftShader) for a dry run:
#   OUT=/tmp/devout CASES=micro TORCH_DEVICE=cpu PYTHON=/usr/bin/python3 \
#   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json bash research/kernels/device-bench.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:?set OUT}
mkdir -p "$OUT"
{
  echo "== nvidia-smi"; nvidia-smi 2>&1 | head -15
  echo "== ICD files"; ls -l /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>&1
  echo "== loader before"; ldconfig -p | grep -i vulkan
} > "$OUT/vulkan.txt" 2>&1
if ! ldconfig -p | grep -q libvulkan.so.1; then
  for f in .device/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
echo "== loader after" >> "$OUT/vulkan.txt"; ldconfig -p | grep -i vulkan >> "$OUT/vulkan.txt" 2>&1
NVIDIA_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_ICD_FILENAMES:-}" ] && [ -e "$NVIDIA_ICD" ]; then export VK_DRIVER_FILES=$NVIDIA_ICD; fi
NODE=$(command -v node || true)
if [ -z "$NODE" ]; then xz -dc .device/node.xz > /tmp/node && chmod +x /tmp/node && NODE=/tmp/node; fi
[ -e .device/node_modules/webgpu/dist/linux-x64/dawn.node ] ||
  xz -dc .device/dawn.node.xz > .device/node_modules/webgpu/dist/linux-x64/dawn.node
# Cases: CASES=micro for a dry run; else tiny, mini and base at 16 x 128 (base: classifier only).
spec() { echo "{\"preset\":\"$1\",\"batchSize\":16,\"seqLen\":$2,\"objective\":\"$3\",\"kernels\":\"$4\",\"warmupSteps\":2,\"steps\":$5,\"budgetS\":$6}"; }
list=()
if [ "${CASES:-}" = micro ]; then
  for k in fused stock; do list+=("$(spec micro 64 classifier $k 2 60)"); done
else
  for p in tiny mini; do for o in classifier prompt mlm; do for k in fused stock; do
    list+=("$(spec $p 128 $o $k 10 40)"); done; done; done
  for k in fused stock; do list+=("$(spec base 128 classifier $k 5 60)"); done
fi
json="[$(IFS=,; echo "${list[*]}")]"
echo "cases: $json" > "$OUT/node-webgpu.txt"
(cd .device && timeout 420 "$NODE" bench-node.mjs "$json" webgpu) >> "$OUT/node-webgpu.txt" 2>&1
echo "exit $?" >> "$OUT/node-webgpu.txt"
# PyTorch on the GPU, the same shapes (layers, hidden, heads, intermediate of the presets above).
{
  for cfg in "2 128 2 512 tiny" "4 256 4 1024 mini" "12 768 12 3072 base"; do
    set -- $cfg
    for o in classifier prompt mlm; do
      [ "$5" = base ] && [ "$o" != classifier ] && continue
      echo "== $5 $o"
      timeout 60 "${PYTHON:-python3}" bench/torch_step.py "{\"layers\":$1,\"hidden\":$2,\"heads\":$3,\"intermediate\":$4,\"vocab\":30522,\"batch\":16,\"seq\":128,\"objective\":\"$o\",\"warmup\":3,\"steps\":10,\"device\":\"${TORCH_DEVICE:-cuda}\"}"
    done
  done
} > "$OUT/torch.txt" 2>&1
echo done
