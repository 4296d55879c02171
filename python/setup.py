"""Builds ringboard._native against libringboard.so, bundling the library and the `ringboard`
executable (both linked with the static Swift standard library) into the package.

The native parts come from ../Scripts/build-native.sh (which needs the Swift toolchain) unless
src/ringboard/_lib already holds them (RINGBOARD_NATIVE_DIR names another directory to copy
them from). The wheel built here runs without Swift.
"""

import os
import shutil
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = os.path.join(HERE, "src", "ringboard", "_lib")
NATIVE_FILES = ("libringboard.so", "ringboard", os.path.join("include", "ringboard.h"))


def native_parts():
    """Makes sure src/ringboard/_lib holds libringboard.so, ringboard and include/ringboard.h."""
    given = os.environ.get("RINGBOARD_NATIVE_DIR")
    if given:
        os.makedirs(os.path.join(LIB, "include"), exist_ok=True)
        for name in NATIVE_FILES:
            shutil.copy2(os.path.join(given, name), os.path.join(LIB, name))
        return
    if all(os.path.exists(os.path.join(LIB, name)) for name in NATIVE_FILES):
        return
    script = os.path.join(HERE, "..", "Scripts", "build-native.sh")
    if not os.path.exists(script):
        raise SystemExit(
            "ringboard: src/ringboard/_lib has no native parts and ../Scripts/build-native.sh is not here; "
            "build from the repository, or set RINGBOARD_NATIVE_DIR"
        )
    subprocess.check_call([script, LIB])


class BuildPyWithNativeParts(build_py):
    """The native parts are package data: they must be in place before build_py copies it."""

    def run(self):
        native_parts()
        super().run()


class BuildExtWithNativeParts(build_ext):
    """The extension links against libringboard.so."""

    def run(self):
        native_parts()
        super().run()


setup(
    ext_modules=[
        Extension(
            "ringboard._native",
            sources=["src/ringboard/_native.c"],
            include_dirs=[os.path.join(LIB, "include")],
            library_dirs=[LIB],
            libraries=["ringboard"],
            extra_compile_args=["-std=c11", "-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-Wno-cast-function-type"],
            extra_link_args=["-Wl,-rpath,$ORIGIN/_lib"],
        )
    ],
    cmdclass={"build_py": BuildPyWithNativeParts, "build_ext": BuildExtWithNativeParts},
)
