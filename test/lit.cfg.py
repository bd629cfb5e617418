# lit configuration for tfm's IR, frontend and driver tests.
import os

import lit.formats

config.name = "tfm"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tfm_obj_root, "test")
config.excludes = ["Inputs", "unit", "golden", "fixtures", "CMakeLists.txt",
                   "lit.cfg.py", "lit.site.cfg.py"]

# The project's tools first, then LLVM 19's FileCheck/not (not the FileCheck
# of other LLVM versions that may be on PATH).
path = os.pathsep.join([config.tfm_tools_dir, config.llvm_tools_dir,
                        config.environment.get("PATH", os.environ["PATH"])])
config.environment["PATH"] = path

config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%tfm_src", config.tfm_source_root))
config.substitutions.append(("%tfm_build", config.tfm_obj_root))
config.substitutions.append(("%cmake", config.cmake_command))
config.substitutions.append(("%examples",
                             os.path.join(config.tfm_source_root, "examples")))
config.substitutions.append(("%fixtures",
                             os.path.join(config.tfm_source_root, "test",
                                          "fixtures")))
config.substitutions.append(("%inputs",
                             os.path.join(config.tfm_source_root, "test",
                                          "Inputs")))

# A sanitizer build (scripts/test --sanitize) links programs with the flags
# in TFM_CXXFLAGS; tests that cannot run under the sanitizers say so.
# %cc compiles and links the C programs that use a compiled library, with
# the same flags as the library.
config.substitutions.append(
    ("%cc", "cc " + os.environ.get("TFM_CXXFLAGS", "")))
if os.environ.get("TFM_CXXFLAGS"):
    config.environment["TFM_CXXFLAGS"] = os.environ["TFM_CXXFLAGS"]
    if "-fsanitize" in os.environ["TFM_CXXFLAGS"]:
        config.available_features.add("sanitizers")
