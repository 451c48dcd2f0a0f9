/*
 * cpt_torch.h: the C API of cpt's torch engine, over libtorch.
 *
 * Opaque handles, integer status codes, and a thread-local message for the last error: every C++
 * exception is caught inside and turned into a code and a message, so a native error never takes
 * the JVM down. Every function that can fail returns CPT_OK (0) or an error code; cpt_last_error()
 * then says what went wrong (on the calling thread).
 *
 * Token batches are int32, row-major, `sequences` rows of `seq_len + 1` tokens: the model reads
 * tokens [0, seq_len) of a row and predicts tokens [1, seq_len].
 */
#ifndef CPT_TORCH_H
#define CPT_TORCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CPT_OK 0
#define CPT_ERR_ARGUMENT 1
#define CPT_ERR_DEVICE 2
#define CPT_ERR_IO 3
#define CPT_ERR_TORCH 4
#define CPT_ERR_INTERNAL 5
/* A rendezvous or collective failed: a rank died, timed out, or could not be reached. */
#define CPT_ERR_DISTRIBUTED 6

#define CPT_ARCH_GPT2 0
#define CPT_ARCH_NEOX 1
/* MPT (MosaicML, SlimPajama-DC's LBS-7B): ALiBi, no biases anywhere (LayerNorms too), sequential pre-norm blocks, tied head. */
#define CPT_ARCH_MPT 2
#define CPT_DEVICE_CPU 0
#define CPT_DEVICE_CUDA 1
#define CPT_PRECISION_FP32 0
#define CPT_PRECISION_BF16 1
#define CPT_BACKEND_GLOO 0
#define CPT_BACKEND_NCCL 1
/* The MLP's activation: GELU exact (erf; HF hidden_act "gelu") or its tanh approximation ("gelu_new", "gelu_fast"). */
#define CPT_ACT_GELU_EXACT 0
#define CPT_ACT_GELU_TANH 1

typedef struct cpt_model cpt_model;
/* A c10d process group: this process's rank among world_size ranks that train one model together. */
typedef struct cpt_group cpt_group;

typedef struct cpt_model_config {
    int32_t arch;
    int32_t layers;
    int32_t d_model;
    int32_t heads;
    int32_t context_length;
    int32_t vocab_size;
    int32_t device;
    int32_t precision;
    int32_t threads;
    int32_t activation_checkpointing;
    /* 1: the memory-bound parts of the step (cross-entropy, LayerNorms, rotary, residual adds) run as
     * cpt's fused ops (CUDA kernels under bf16; their tensor-op formulas on the CPU); 0: eager ATen. */
    int32_t fused_kernels;
    /* CUDA: which GPU (a rank's LOCAL_RANK when several share a machine); ignored on the CPU. */
    int32_t device_index;
    double beta1;
    double beta2;
    double eps;
    int64_t seed;
    /*
     * The architecture's settings beyond its shape, as a checkpoint's config.json gives them (none is
     * assumed: cpt's own presets pass theirs, see dev.cpt.hf.ArchSettings). neox: the rotary
     * embedding turns the first int(d_head * rotary_pct) dims of each head (HF's rule; must come out
     * even and >= 2) with base rotary_base. gpt2 ignores both.
     */
    double rotary_pct;
    double rotary_base;
    /* Every LayerNorm's epsilon. */
    double layer_norm_eps;
    /* neox: 1 x + attn(ln1(x)) + mlp(ln2(x)) (Pythia); 0 sequential, x += attn(ln1(x)); x += mlp(ln2(x)). gpt2: 0. */
    int32_t use_parallel_residual;
    /* 1: the output head is the token embedding (gpt2 always); 0: a separate embed_out.weight (neox). */
    int32_t tie_word_embeddings;
    /* CPT_ACT_GELU_EXACT or CPT_ACT_GELU_TANH. */
    int32_t hidden_act;
    /*
     * mpt: ALiBi's slopes are 2^(-alibi_bias_max * i / n) for heads i = 1..n (MPT's default 8), with
     * MPT's next-power-of-two rule when n is not a power of two. gpt2 and neox ignore it.
     */
    double alibi_bias_max;
} cpt_model_config;

/* Bytes the model's state holds now on this rank, by kind (counted from its tensors). */
typedef struct cpt_state_bytes {
    int64_t weights;
    int64_t gradients;
    int64_t optimizer;
} cpt_state_bytes;

typedef struct cpt_group_config {
    /* The TCPStore's host (rank 0 serves it) and port: MASTER_ADDR and MASTER_PORT. */
    const char *master_address;
    int32_t master_port;
    int32_t rank;
    int32_t world_size;
    /* CPT_BACKEND_GLOO (CPU tensors) or CPT_BACKEND_NCCL (CUDA tensors). */
    int32_t backend;
    /* Gloo's worker threads. */
    int32_t threads;
    /* How long the rendezvous and every collective may wait for the other ranks. */
    int64_t timeout_ms;
} cpt_group_config;

typedef struct cpt_step_result {
    double loss;
    double grad_norm;
} cpt_step_result;

typedef struct cpt_memory_stats {
    int64_t allocated_bytes;
    int64_t peak_allocated_bytes;
    int64_t reserved_bytes;
} cpt_memory_stats;

const char *cpt_last_error(void);
const char *cpt_torch_version(void);
int32_t cpt_cuda_available(void);
/* GPUs this libtorch sees (0 without CUDA). */
int32_t cpt_cuda_device_count(void);
/* 1 if this build has cpt's CUDA kernels (it was compiled with nvcc against a CUDA libtorch). */
int32_t cpt_fused_kernels_available(void);

int32_t cpt_model_create(const cpt_model_config *config, cpt_model **out);
void cpt_model_destroy(cpt_model *model);
int32_t cpt_model_parameter_count(cpt_model *model, int64_t *out);
int32_t cpt_model_tensor_count(cpt_model *model, int32_t *out);
int32_t cpt_model_tensor_name(cpt_model *model, int32_t index, char *buffer, int32_t capacity);
int32_t cpt_model_tensor_numel(cpt_model *model, const char *name, int64_t *out);
int32_t cpt_model_get_tensor(cpt_model *model, const char *name, float *destination, int64_t numel);
int32_t cpt_model_set_tensor(cpt_model *model, const char *name, const float *source, int64_t numel);

int32_t cpt_train_step(cpt_model *model, const int32_t *tokens, int32_t sequences, int32_t seq_len,
                       int32_t micro_batch, double lr, double weight_decay, double grad_clip,
                       cpt_step_result *out);
int32_t cpt_eval_loss(cpt_model *model, const int32_t *tokens, int32_t sequences, int32_t seq_len,
                      double *out);
int32_t cpt_reset_optimizer(cpt_model *model);
int32_t cpt_save(cpt_model *model, const char *path);
int32_t cpt_load(cpt_model *model, const char *path);
/*
 * ZeRO >= 1: every rank writes its own shard, dir/torch-rank-RRRRR-of-NNNNN.pt (the weights and
 * moments of the elements it owns), in parallel; the call returns on every rank once all shards are
 * written. Rank 0 must have made dir before it calls.
 */
int32_t cpt_save_shard(cpt_model *model, const char *dir);
/* Loads the shards in dir, of any world size and stage, into this model at its own world size and stage. */
int32_t cpt_load_shards(cpt_model *model, const char *dir);
/* CUDA: the caching allocator's bytes (current, peak since the last reset, reserved); CPU: the
 * model state cpt_model_state_bytes counts (weights, gradients, AdamW moments). */
int32_t cpt_memory_statistics(cpt_model *model, cpt_memory_stats *out);
int32_t cpt_memory_reset_peak(cpt_model *model);
/* Weights, gradients and AdamW moments this rank holds (several ranks: what its ZeRO stage shards shrinks). */
int32_t cpt_model_state_bytes(cpt_model *model, cpt_state_bytes *out);

/* 1 if this shim has c10d's Gloo backend (several CPU ranks), resp. NCCL (several GPUs). */
int32_t cpt_gloo_available(void);
int32_t cpt_nccl_available(void);
/* Joins the process group: blocks until all world_size ranks have joined or the timeout passes. */
int32_t cpt_group_create(const cpt_group_config *config, cpt_group **out);
void cpt_group_destroy(cpt_group *group);
int32_t cpt_group_barrier(cpt_group *group);
/* Sums count doubles across the ranks, in place. */
int32_t cpt_group_all_reduce_sum(cpt_group *group, double *values, int32_t count);
/*
 * Makes model one replica of a data-parallel run over group (the model keeps the group alive). Every
 * rank must call it on a model created with the same config and seed; rank 0's weights are then
 * broadcast so that all replicas start equal. zero_stage 0: gradients all-reduced in buckets of about
 * bucket_bytes, during the backward; 1: AdamW moments sharded across the ranks; 2: gradients
 * reduce-scattered too. cpt_train_step then takes this rank's rows of the global batch and returns
 * the global loss and gradient norm; cpt_eval_loss the mean over every rank's rows. Checkpoints: ZeRO-0
 * rank 0 writes one file (cpt_save); ZeRO >= 1 every rank its shard (cpt_save_shard); either loads at
 * any world size and stage.
 */
int32_t cpt_model_distribute(cpt_model *model, cpt_group *group, int32_t zero_stage, int64_t bucket_bytes);

/*
 * Scoring (cpt eval): rows of tokens, right-padded to max_len (row r is tokens[r * max_len, r * max_len +
 * lengths[r]); the padding's values are ignored), each of 2 to context_length + 1 tokens. The model reads
 * a row's tokens [0, lengths[r] - 1) in one batched forward without gradients (causal attention: the
 * padding after a row's end changes none of its positions) and for each position i < lengths[r] - 1
 * writes out_logprobs[r * (max_len - 1) + i] = log softmax(logits at i)[token i + 1] (the softmax in
 * float32, from the logits as computed: bf16 under CUDA autocast) and out_greedy[...] = 1 if token i + 1
 * is the argmax there (the first of equal maxima), else 0. The padded positions get 0 and 0. One rank's
 * model (not ZeRO-3 sharded weights); no state changes.
 */
int32_t cpt_score_tokens(cpt_model *model, const int32_t *tokens, const int32_t *lengths, int32_t rows, int32_t max_len,
                         double *out_logprobs, int32_t *out_greedy);
/* The full forward's logits of one sequence of length tokens (1 to context_length): out_logits[i * vocab_size + v], float32. */
int32_t cpt_forward_logits(cpt_model *model, const int32_t *tokens, int32_t length, float *out_logits);

/*
 * An incremental decoder (cpt generate): one sequence fed one token at a time. It keeps every layer's
 * keys and values of the tokens seen so far (a KV cache of context_length positions), so each token
 * costs one position's forward: learned positions (gpt2) and rotary (neox) are those of the token's
 * own position. It reads the model's current weights, which must not change while it is in use, and
 * must be destroyed before its model.
 */
typedef struct cpt_decoder cpt_decoder;
int32_t cpt_decoder_create(cpt_model *model, cpt_decoder **out);
void cpt_decoder_destroy(cpt_decoder *decoder);
/*
 * Feeds token at the next position and writes the logits that predict the token after it (vocab_size
 * float32s). A full context (context_length tokens fed) or a token outside the vocabulary is
 * CPT_ERR_ARGUMENT, and the decoder is unchanged.
 */
int32_t cpt_decoder_append(cpt_decoder *decoder, int32_t token, float *out_logits);
/* Tokens fed so far. */
int32_t cpt_decoder_length(cpt_decoder *decoder, int32_t *out);

#ifdef __cplusplus
}
#endif

#endif
