// TWOTOWER_CLONES: compile a hot loop for AVX-512, AVX2 and the x86-64 baseline, the variant
// picked once at load time (GCC's target_clones, an ifunc). The build targets the baseline so the
// binary runs on any x86-64; loops that need wider lanes (32-bit multiplies, vector square
// roots) carry this attribute instead of raising -march for the whole project.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TWOTOWER_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TWOTOWER_CLONES
#endif
