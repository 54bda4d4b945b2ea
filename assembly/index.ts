// The shipped module's exports: every kernel the package calls, and the allocator. One file per
// operation family. Kernels only benchmarks and tests call are in extras/ (a module of their own).
export { alloc, free, zero_f32, copy_f32, count_nonfinite } from "./memory";
export { dense_forward, dense_backward_input, dense_backward_weight, bias_backward } from "./dense";
export { relu_forward, relu_backward, clamp_f32 } from "./activation";
export {
  embedding_gather, embedding_scatter_add, embedding_bag, embedding_bag_scatter_add,
  embedding_bag_scatter_add_cols, touch_rows, touch_bag_rows,
  gather_rows, gather_32, embedding_bag_attention, embedding_bag_attention_backward,
} from "./embedding";
export { rowwise_dot, rowwise_dot_backward, add_pair_bias, mse_loss, l2_penalty, embedding_l2, bce_loss, bpr_loss, softmax_xent, l2_normalize_rows, l2_normalize_backward, ccl_loss } from "./loss";
export { adam_update, adam_rows } from "./adam";
export { sgd_update } from "./sgd";
export { adagrad_rows } from "./adagrad";
export { score_matrix, topk_reset, score_topk, topk_merge, score_rescore, topk_finish, rank_targets } from "./score";
export { score_topk_i8 } from "./score-int8";
export { interleave_items, score_topk_il } from "./score-interleaved";
export { quantize_rows_i8, quantize_items_i8 } from "./quantize";
export { scan_fields } from "./parse";
export { autorec_encode, autorec_grad } from "./autorec";
export { ease_gram, spd_inverse, ease_weights, dlae_weights } from "./ease";
export { random_normal_f32, random_uniform_f32 } from "./random";
