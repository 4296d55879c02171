#!/usr/bin/env python3
"""Independent checks of PNG files, for the PNG encoder's tests.

    python png_reference.py decode MANIFEST.json
    python png_reference.py libpng MANIFEST.json

decode
------
MANIFEST.json is a list of PNG file paths. For each file, prints (as one JSON list on
stdout) what two independent readers see:

  * Pillow: mode, size and pixels (hex) after Image.open(...).load(), which also
    checks every chunk's CRC and the zlib stream;
  * this script's own chunk walk: the chunks in order (type, length, whether the
    CRC-32 holds), the IHDR fields, the zlib header's two bytes, the filter type of
    every row (read from the inflated IDAT data) and whether the Adler-32 trailer
    and the inflated length are right.

libpng
------
MANIFEST.json is a list of {"pixels": RAW FILE, "width": W, "height": H,
"channels": 1|3|4, "output": PNG FILE}. Each raw image is encoded with the system's
libpng through ctypes, exactly as TensorFlow's png::WriteImageToBuffer
(tensorflow/core/lib/png/png_io.cc) drives it: png_set_compression_level(-1),
png_set_compression_mem_level(MAX_MEM_LEVEL = 9), png_set_IHDR with 8 bits, no
interlace and the default filter type, png_write_info, png_write_row per row,
png_write_end. Prints {"libpng": VERSION, "zlib": VERSION}. Exits 3 when libpng
cannot be loaded, so callers can tell "not installed" from a failure.
"""

import ctypes
import ctypes.util
import io
import json
import struct
import sys
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def walk(data):
    """The chunk-level view of one PNG file."""
    report = {"signature": data[:8] == PNG_SIGNATURE, "chunks": []}
    position = 8
    idat = b""
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        report["chunks"].append(
            {"type": kind.decode("latin-1"), "length": length, "crc_ok": zlib.crc32(kind + body) == crc}
        )
        if kind == b"IHDR":
            width, height, depth, color, compression, filtering, interlace = struct.unpack(">IIBBBBB", body)
            report["ihdr"] = {
                "width": width, "height": height, "bit_depth": depth, "color_type": color,
                "compression": compression, "filter": filtering, "interlace": interlace,
            }
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    report["trailing_bytes"] = len(data) - position
    report["zlib_header"] = list(idat[:2])
    inflater = zlib.decompressobj()
    raw = inflater.decompress(idat)
    report["zlib_complete"] = inflater.eof and not inflater.unused_data
    ihdr = report.get("ihdr")
    if ihdr:
        channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(ihdr["color_type"], 1)
        stride = ihdr["width"] * channels + 1
        report["inflated_length_ok"] = len(raw) == stride * ihdr["height"]
        report["filters"] = [raw[row * stride] for row in range(ihdr["height"]) if row * stride < len(raw)]
    return report


def decode(paths):
    from PIL import Image

    results = []
    for path in paths:
        with open(path, "rb") as handle:
            data = handle.read()
        entry = walk(data)
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                entry["pillow"] = {"mode": image.mode, "width": image.width, "height": image.height,
                                   "pixels": image.tobytes().hex()}
        except Exception as error:  # reported, not raised: the caller's test says what failed
            entry["pillow"] = {"error": f"{type(error).__name__}: {error}"}
        results.append(entry)
    json.dump(results, sys.stdout)


def load_libpng():
    name = ctypes.util.find_library("png16") or ctypes.util.find_library("png")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


WRITE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(ctypes.c_ubyte), ctypes.c_size_t)
FLUSH_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


def libpng_encode(png, pixels, width, height, channels):
    """png_io.cc's WriteImageToBuffer, call for call. libpng errors abort the process."""
    png.png_get_libpng_ver.restype = ctypes.c_char_p
    png.png_create_write_struct.restype = ctypes.c_void_p
    png.png_create_write_struct.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    png.png_create_info_struct.restype = ctypes.c_void_p
    png.png_create_info_struct.argtypes = [ctypes.c_void_p]
    png.png_set_write_fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, WRITE_FN, FLUSH_FN]
    png.png_set_compression_level.argtypes = [ctypes.c_void_p, ctypes.c_int]
    png.png_set_compression_mem_level.argtypes = [ctypes.c_void_p, ctypes.c_int]
    png.png_set_IHDR.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32] + [ctypes.c_int] * 5
    png.png_write_info.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    png.png_write_row.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    png.png_write_end.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    png.png_destroy_write_struct.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p)]

    output = bytearray()

    def write(_png_ptr, data, length):
        output.extend(ctypes.string_at(data, length))

    write_fn, flush_fn = WRITE_FN(write), FLUSH_FN(lambda _png_ptr: None)
    png_ptr = png.png_create_write_struct(png.png_get_libpng_ver(None), None, None, None)
    info_ptr = png.png_create_info_struct(png_ptr)
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]  # PNG_COLOR_TYPE_GRAY, _GRAY_ALPHA, _RGB, _RGB_ALPHA
    png.png_set_write_fn(png_ptr, None, write_fn, flush_fn)
    png.png_set_compression_level(png_ptr, -1)  # compression < 0 -> Z_DEFAULT_COMPRESSION
    png.png_set_compression_mem_level(png_ptr, 9)  # MAX_MEM_LEVEL
    png.png_set_IHDR(png_ptr, info_ptr, width, height, 8, color_type, 0, 0, 0)
    png.png_write_info(png_ptr, info_ptr)
    row_bytes = width * channels
    for row in range(height):
        png.png_write_row(png_ptr, bytes(pixels[row * row_bytes : (row + 1) * row_bytes]))
    png.png_write_end(png_ptr, None)
    png_holder, info_holder = ctypes.c_void_p(png_ptr), ctypes.c_void_p(info_ptr)
    png.png_destroy_write_struct(ctypes.byref(png_holder), ctypes.byref(info_holder))
    return bytes(output)


def encode_with_libpng(cases):
    png = load_libpng()
    if png is None:
        print("libpng is not installed (ctypes.util.find_library('png16') found nothing)", file=sys.stderr)
        sys.exit(3)
    for case in cases:
        with open(case["pixels"], "rb") as handle:
            pixels = handle.read()
        encoded = libpng_encode(png, pixels, case["width"], case["height"], case["channels"])
        with open(case["output"], "wb") as handle:
            handle.write(encoded)
    png.png_get_libpng_ver.restype = ctypes.c_char_p
    json.dump({"libpng": png.png_get_libpng_ver(None).decode(), "zlib": zlib.ZLIB_RUNTIME_VERSION}, sys.stdout)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("decode", "libpng"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    with open(sys.argv[2]) as handle:
        manifest = json.load(handle)
    if sys.argv[1] == "decode":
        decode(manifest)
    else:
        encode_with_libpng(manifest)


if __name__ == "__main__":
    main()
