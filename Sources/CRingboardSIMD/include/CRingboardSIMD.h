#ifndef CRINGBOARD_SIMD_H
#define CRINGBOARD_SIMD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Vector kernels for summaries, each with a run-time choice between AVX-512, AVX2 and a portable
/// path. Declarations are added here by the kernels that need them.

/// The widest vector path this CPU offers to these kernels: 512, 256, or 0 for the portable path.
int CRingboardSIMD_vector_width(void);

#ifdef __cplusplus
}
#endif

#endif
