#!/usr/bin/env bash
# Builds what the Python package bundles, linked with the static Swift standard library so that
# it runs without a Swift toolchain, into OUT_DIR (default python/src/ringboard/_lib):
#   libringboard.so        the C interface (Sources/RingboardC, header ringboard.h)
#   ringboard              the command (the aggregator the callback starts)
#   include/ringboard.h
# Release builds in .build-native. Checks that neither file needs a libswift* library.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-python/src/ringboard/_lib}"

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
scratch=.build-native
swift_lib="$(dirname "$(dirname "$(command -v swiftc)")")/lib/swift_static/linux"

echo "build-native: release build of ringboard and libRingboardC.so (in $scratch)"
# The same flags for both, so that the second build reuses the first one's objects (the library
# product's own link, which this script redoes below, needs the -L to find Foundation's archives).
flags=(-c release --scratch-path "$scratch" --static-swift-stdlib -Xlinker -L"$swift_lib")
swift build "${flags[@]}" --product ringboard
swift build "${flags[@]}" --product RingboardC
products="$(swift build "${flags[@]}" --show-bin-path)"

# SwiftPM links a dynamic library against the shared Swift runtime whatever the flags: link it
# again, from the objects SwiftPM listed for it, with the static one. Every symbol but the
# library's own stays hidden (the runtime's link arguments carry --exclude-libs ALL). Foundation's
# archives go in as one group: the driver's autolinking names only three of the seven, and a
# shared library may otherwise leave the rest undefined until it is loaded (--no-undefined).
link_list="$products/RingboardC.product/Objects.LinkFileList"
[ -f "$link_list" ] || { echo "build-native: $link_list is missing (SwiftPM's layout changed?)" >&2; exit 1; }
foundation=()
for archive in Foundation FoundationInternationalization FoundationEssentials _FoundationCollections _FoundationCShims \
    _FoundationICU CoreFoundation; do
    foundation+=(-Xlinker "$swift_lib/lib$archive.a")
done
mkdir -p "$out/include"
swiftc -emit-library -module-name RingboardC -static-stdlib -L "$swift_lib" \
    -L "$products" -llz4 -Xlinker --gc-sections -Xlinker '-rpath=$ORIGIN' -Xlinker --no-undefined \
    "@$link_list" -Xlinker --start-group "${foundation[@]}" -Xlinker --end-group \
    -o "$out/libringboard.so" 2> >(grep -v "the use of \`mktemp' is dangerous" >&2)
cp "$products/ringboard" "$out/ringboard"
strip --strip-unneeded "$out/libringboard.so"
strip "$out/ringboard"
cp Sources/CRingboardABI/include/ringboard.h "$out/include/ringboard.h"

for file in "$out/libringboard.so" "$out/ringboard"; do
    if ldd "$file" | grep -q 'libswift\|libFoundation\|libdispatch\|libBlocksRuntime'; then
        echo "build-native: $file still needs the Swift runtime:" >&2
        ldd "$file" >&2
        exit 1
    fi
done
echo "build-native: $out: $(du -sh "$out/libringboard.so" | cut -f1) libringboard.so, $(du -sh "$out/ringboard" | cut -f1) ringboard"
