// The extras module: kernels for benchmarks and tests only, built to build/extras/ (outside the
// package's "files") and loaded by test/extra-kernels.ts. The shipped module is ../index.ts.
export { alloc, free } from "../memory";
export { stream_sum, stream_sum_i8 } from "./stream";
export { relaxed_dot_probe } from "./probe";
