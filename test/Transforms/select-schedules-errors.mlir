// tfm-select-schedules refuses targets and ISAs it does not know.
// RUN: not tfm-opt %s -tfm-select-schedules="isa=sse2" 2>&1 | FileCheck %s --check-prefix=ISA
// ISA: error: tfm-select-schedules: unknown isa 'sse2' (known: avx2, avx512)
// RUN: not tfm-opt %s -tfm-select-schedules="wide-isa=avx1024" 2>&1 | FileCheck %s --check-prefix=WIDE
// WIDE: error: tfm-select-schedules: unknown wide-isa 'avx1024' (known: none, avx2, avx512)
// RUN: not tfm-opt %s -tfm-select-schedules="target=tpu" 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: error: tfm-select-schedules: unknown target 'tpu' (known: cpu)
module {}
