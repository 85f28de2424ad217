/* Deterministic random numbers for the detect tests' synthetic populations (one seed, the same
 * sequence on every machine). Header-only: each test includes what it uses. */
#ifndef MG_TESTS_DETECT_RNG_H
#define MG_TESTS_DETECT_RNG_H

#include <math.h>
#include <stdint.h>

/* deterministic uniform [0, 1) */
static inline double rnd(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(*s >> 11) / 9007199254740992.0;
}

/* standard normal (Box-Muller) */
static inline double normal(uint64_t *s) {
  double u = rnd(s), v = rnd(s);
  if (u < 1e-12) u = 1e-12;
  return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

#endif
