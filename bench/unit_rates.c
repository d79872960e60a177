// Instructions per cycle of one core's 512-bit FMA, VDPBF16PS and VPDPBUSD: the per-cycle rates bench/cpu_peak.py
// assumes, checked on the machine at hand. 12 independent accumulators hide each instruction's latency; time is the
// thread's CPU time (so other processes sharing the core do not count) and the clock is a dependent chain of integer
// adds (one per cycle on every x86 core), so no performance counters are needed (a VM rarely has them).
//     gcc -O2 -mavx512f -mavx512bf16 -mavx512vnni -mavx512bw -o /tmp/unit_rates bench/unit_rates.c && /tmp/unit_rates
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define N 200000000L
#define R12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
int main(void){
  volatile float sink=0; double t; double ghz;
  { long x=0; t=now();
    for(long n=0;n<N/8;n++){ __asm__ volatile("add $1,%0\n add $1,%0\n add $1,%0\n add $1,%0\n add $1,%0\n add $1,%0\n add $1,%0\n add $1,%0" : "+r"(x)); }
    t=now()-t; ghz=N/t/1e9; printf("dependent add chain: %.2f GHz (1 add per cycle)\n", ghz); }
  { __m512 a=_mm512_set1_ps(1.0001f), b=_mm512_set1_ps(0.9999f);
#define D(i) __m512 c##i=_mm512_set1_ps((float)i);
    R12(D)
    t=now();
    for(long n=0;n<N/12;n++){
#define F(i) c##i=_mm512_fmadd_ps(a,b,c##i);
      R12(F) __asm__ volatile("" ::: "memory"); }
    t=now()-t;
#define S(i) sink+=_mm512_reduce_add_ps(c##i);
    R12(S)
    printf("%.2f/cycle fp32 FMA zmm: %.2f G instr/s = %.1f GFLOP/s per core\n", N/t/1e9/ghz, N/t/1e9, N/t*32/1e9); }
  { __m512bh a=(__m512bh)_mm512_set1_epi16(0x3f80), b=(__m512bh)_mm512_set1_epi16(0x3f80);
#undef D
#define D(i) __m512 d##i=_mm512_set1_ps((float)i);
    R12(D)
    t=now();
    for(long n=0;n<N/12;n++){
#undef F
#define F(i) d##i=_mm512_dpbf16_ps(d##i,a,b);
      R12(F) __asm__ volatile("" ::: "memory"); }
    t=now()-t;
#undef S
#define S(i) sink+=_mm512_reduce_add_ps(d##i);
    R12(S)
    printf("%.2f/cycle VDPBF16PS zmm: %.2f G instr/s = %.1f GFLOP/s per core (64 FLOPs each)\n", N/t/1e9/ghz, N/t/1e9, N/t*64/1e9); }
  { __m512i a=_mm512_set1_epi8(1), b=_mm512_set1_epi8(1); volatile int isink=0;
#undef D
#define D(i) __m512i e##i=_mm512_set1_epi32(i);
    R12(D)
    t=now();
    for(long n=0;n<N/12;n++){
#undef F
#define F(i) e##i=_mm512_dpbusd_epi32(e##i,a,b);
      R12(F) __asm__ volatile("" ::: "memory"); }
    t=now()-t;
#undef S
#define S(i) isink+=_mm512_reduce_add_epi32(e##i);
    R12(S)
    printf("%.2f/cycle VPDPBUSD zmm: %.2f G instr/s = %.1f GOP/s per core (128 ops each)\n", N/t/1e9/ghz, N/t/1e9, N/t*128/1e9); }
  return 0;
}
