package dev.cpt.trainer;

import static dev.cpt.ffi.cpt_torch_h.*;

import dev.cpt.data.Batch;
import dev.cpt.distributed.RankSlice;
import dev.cpt.ffi.NativeLibrary;
import dev.cpt.ffi.cpt_memory_stats;
import dev.cpt.ffi.cpt_model_config;
import dev.cpt.ffi.cpt_state_bytes;
import dev.cpt.ffi.cpt_step_result;
import dev.cpt.hf.ArchSettings;
import dev.cpt.hf.HfModel;
import dev.cpt.hf.ModelInit;
import dev.cpt.hf.Tensor;
import dev.cpt.plan.ModelSize;
import dev.cpt.plan.RunPlan;
import dev.cpt.record.CheckpointManifest;
import dev.cpt.spec.ModelSpec;
import dev.cpt.spec.OptimizerSpec;
import dev.cpt.spec.RunSpec;
import dev.cpt.train.Engine;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The torch engine: the run's model in libtorch (native/cpt_torch.cpp) behind core's {@link Engine}.
 * Tokens go to the library through an off-heap buffer allocated once; the library checks them
 * against the vocabulary. AdamW is torch.optim.AdamW's, decaying embeddings and linear weights,
 * with the run's betas, eps and gradient clip; the batch goes through in micro-batches of
 * {@code batch.microBatch} sequences with accumulated gradients.
 */
public final class TorchEngine implements Engine {

    public enum Device { CPU, CUDA }

    public enum Precision { FP32, BF16 }

    /**
     * Which code runs the step's memory-bound parts (cross-entropy, LayerNorms, rotary, residual
     * adds). FUSED: cpt's own ops (native/fused_ops.h): CUDA kernels under bf16, their tensor-op
     * formulas on the CPU; EAGER: libtorch's ATen ops one by one; AUTO: fused where the kernels
     * run (CUDA, bf16, a shim built with nvcc), eager elsewhere.
     */
    public enum Kernels { AUTO, FUSED, EAGER }

    /** How the engine runs: device, precision, activation checkpointing, kernels, CPU threads. */
    public record Options(Device device, Precision precision, boolean activationCheckpointing, Kernels kernels, int threads,
                          int deviceIndex) {
        public Options {
            if (device == null || precision == null || kernels == null) throw new IllegalArgumentException("device, precision and kernels are required");
            if (deviceIndex < 0) throw new IllegalArgumentException("the GPU index must not be negative, not " + deviceIndex);
            threads = Math.max(1, threads);
        }

        public Options(Device device, Precision precision, boolean activationCheckpointing, Kernels kernels, int threads) {
            this(device, precision, activationCheckpointing, kernels, threads, 0);
        }

        /** CUDA: the GPU to run on (a rank's LOCAL_RANK). */
        public Options withDeviceIndex(int index) {
            return new Options(device, precision, activationCheckpointing, kernels, threads, index);
        }

        public static Options of(Device device, Precision precision, int threads) {
            return new Options(device, precision, false, Kernels.AUTO, threads);
        }

        public Options withActivationCheckpointing(boolean on) {
            return new Options(device, precision, on, kernels, threads, deviceIndex);
        }

        public Options withKernels(Kernels k) {
            return new Options(device, precision, activationCheckpointing, k, threads, deviceIndex);
        }
    }

    public static final String CHECKPOINT = "torch.pt";

    private final Arena arena = Arena.ofShared();
    private final MemorySegment model;
    private final MemorySegment result = cpt_step_result.allocate(arena);
    private final MemorySegment scalar = arena.allocate(ValueLayout.JAVA_DOUBLE);
    private MemorySegment tokens = MemorySegment.NULL;
    private final OptimizerSpec optimizer;
    private final int microBatch;
    private final Device device;
    private final long parameters;
    private final double flopsPerToken;
    private final boolean fused;
    private boolean closed;
    // Several ranks (distribute): this rank's rows of each global batch, copied into a batch of its own.
    private ProcessGroup group;
    private int zeroStage;
    private RankSlice slice;
    private Batch local;

    /** Gradient buckets of about this many bytes are reduced as the backward finishes them (DDP's default). */
    public static final long DEFAULT_BUCKET_BYTES = 25L << 20;

    private final ModelSpec.Shape shape;
    private final ArchSettings settings;

    private TorchEngine(ModelSpec.Shape s, ArchSettings settings, OptimizerSpec o, long seed, int seqLen, int microBatch, Options options) {
        NativeLibrary.load();
        this.shape = s;
        this.settings = settings;
        this.optimizer = o;
        this.microBatch = microBatch;
        this.device = options.device();
        Device device = options.device();
        Precision precision = options.precision();
        this.fused = switch (options.kernels()) {
            case FUSED -> true;
            case EAGER -> false;
            case AUTO -> device == Device.CUDA && precision == Precision.BF16 && fusedKernelsAvailable();
        };
        MemorySegment config = cpt_model_config.allocate(arena);
        cpt_model_config.arch(config, switch (s.arch()) {
            case "neox" -> CPT_ARCH_NEOX();
            case "mpt" -> CPT_ARCH_MPT();
            default -> CPT_ARCH_GPT2();
        });
        cpt_model_config.layers(config, s.layers());
        cpt_model_config.d_model(config, s.dModel());
        cpt_model_config.heads(config, s.heads());
        cpt_model_config.context_length(config, s.contextLength());
        cpt_model_config.vocab_size(config, s.vocabSize());
        cpt_model_config.device(config, device == Device.CUDA ? CPT_DEVICE_CUDA() : CPT_DEVICE_CPU());
        cpt_model_config.precision(config, precision == Precision.BF16 ? CPT_PRECISION_BF16() : CPT_PRECISION_FP32());
        cpt_model_config.threads(config, options.threads());
        cpt_model_config.activation_checkpointing(config, options.activationCheckpointing() ? 1 : 0);
        cpt_model_config.fused_kernels(config, fused ? 1 : 0);
        cpt_model_config.device_index(config, options.deviceIndex());
        cpt_model_config.beta1(config, o.beta1());
        cpt_model_config.beta2(config, o.beta2());
        cpt_model_config.eps(config, o.eps());
        cpt_model_config.seed(config, seed);
        cpt_model_config.rotary_pct(config, settings.rotaryPct());
        cpt_model_config.rotary_base(config, settings.rotaryBase());
        cpt_model_config.layer_norm_eps(config, settings.layerNormEps());
        cpt_model_config.use_parallel_residual(config, settings.parallelResidual() ? 1 : 0);
        cpt_model_config.tie_word_embeddings(config, settings.tiedEmbeddings() ? 1 : 0);
        cpt_model_config.hidden_act(config, settings.exactGelu() ? CPT_ACT_GELU_EXACT() : CPT_ACT_GELU_TANH());
        cpt_model_config.alibi_bias_max(config, settings.alibiBiasMax());
        MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
        check("cpt_model_create", cpt_model_create(config, out));
        model = out.get(ValueLayout.ADDRESS, 0);
        MemorySegment count = arena.allocate(ValueLayout.JAVA_LONG);
        check("cpt_model_parameter_count", cpt_model_parameter_count(model, count));
        parameters = count.get(ValueLayout.JAVA_LONG, 0);
        flopsPerToken = ModelSize.flopsPerToken(s, seqLen);
    }

    /** The engine of {@code plan}'s run on {@code device}; {@code threads} bounds libtorch's CPU threads. */
    public static TorchEngine create(RunPlan plan, Device device, Precision precision, int threads) {
        return create(plan, device, precision, false, threads);
    }

    /**
     * As {@link #create(RunPlan, Device, Precision, int)}; with {@code activationCheckpointing} each
     * block keeps only its input in the forward and is run again in the backward (less memory for
     * about a third more compute; the same losses).
     */
    public static TorchEngine create(RunPlan plan, Device device, Precision precision, boolean activationCheckpointing, int threads) {
        return create(plan, Options.of(device, precision, threads).withActivationCheckpointing(activationCheckpointing));
    }

    /**
     * The engine of {@code plan}'s run, as {@code options} say. With {@code model.init} the model
     * starts from those weights ({@code hf:DIR}, or a cpt run or checkpoint of either engine) and
     * computes what the source's config says (rotary, residual, epsilon, tying, activation); the
     * optimizer starts fresh. This happens before any {@link #distribute}, which then broadcasts
     * rank 0's weights; a resumed run's own checkpoint replaces them ({@link #load}).
     */
    public static TorchEngine create(RunPlan plan, Options options) {
        RunSpec spec = plan.spec();
        String init = spec.model().init();
        ModelSpec.Shape shape = spec.model().shape();
        if (init == null) {
            return new TorchEngine(shape, ArchSettings.defaults(shape.arch()), spec.optimizer(), spec.seed(), spec.batch().seqLen(),
                    spec.batch().microBatchSequences(), options);
        }
        ModelInit source = ModelInit.parse(init);
        ArchSettings settings;
        try {
            settings = source.settings();
        } catch (IOException e) {
            throw new IllegalArgumentException("model.init " + init + ": " + e.getMessage(), e);
        }
        TorchEngine engine = new TorchEngine(shape, settings, spec.optimizer(), spec.seed(), spec.batch().seqLen(),
                spec.batch().microBatchSequences(), options);
        try {
            engine.initFrom(source);
        } catch (IOException | RuntimeException e) {
            engine.close();
            throw new IllegalArgumentException("model.init " + init + ": " + e.getMessage(), e);
        }
        return engine;
    }

    /**
     * Replaces the seeded weights with {@code source}'s (a torch checkpoint's, or the tensors of an
     * hf: model or a simulator checkpoint); the optimizer's moments and step start at zero.
     */
    public void initFrom(ModelInit source) throws IOException {
        var torchDir = source.torchEngineDir();
        if (torchDir.isPresent()) {
            source.verify();
            load(torchDir.get());
            resetOptimizer();
            return;
        }
        setTensors(source.weights(), source.toString());
    }

    /**
     * Sets every tensor of the model from {@code tensors} (cpt's names and [out, in] layout, as
     * {@link ModelInit#weights()} gives them), each checked for its shape; {@code source} names them
     * in messages. Nothing is set unless all are there.
     */
    public void setTensors(Map<String, Tensor> tensors, String source) {
        Map<String, int[]> want = HfModel.forCptArch(shape.arch()).cptTensors(shape, settings);
        List<String> names = tensorNames();
        if (!names.equals(new ArrayList<>(want.keySet()))) {
            throw new IllegalStateException("the engine's tensors " + names + " are not the " + shape.arch() + " mapping's " + want.keySet());
        }
        Map<String, float[]> values = new LinkedHashMap<>();
        for (var e : want.entrySet()) {
            Tensor t = tensors.get(e.getKey());
            if (t == null) throw new IllegalArgumentException(source + " has no tensor " + e.getKey());
            if (!java.util.Arrays.equals(t.shape(), e.getValue())) {
                throw new IllegalArgumentException(source + ": tensor " + e.getKey() + " has shape " + java.util.Arrays.toString(t.shape())
                        + ", this engine's model needs " + java.util.Arrays.toString(e.getValue()));
            }
            values.put(e.getKey(), t.data());
        }
        setWeights(values);
    }

    /** The model's tensors in cpt's names and [out, in] layout, with their shapes (what export writes). */
    public Map<String, Tensor> tensors() {
        Map<String, int[]> shapes = HfModel.forCptArch(shape.arch()).cptTensors(shape, settings);
        Map<String, Tensor> out = new LinkedHashMap<>();
        weights().forEach((name, data) -> out.put(name, new Tensor(shapes.get(name).clone(), data)));
        return out;
    }

    /** The settings this model computes with. */
    public ArchSettings settings() {
        return settings;
    }

    /**
     * The weights of a torch engine checkpoint ({@code source.torchEngineDir()}: torch.pt or the
     * shards of any world size), read by a one-rank CPU engine of the run's shape and settings.
     */
    public static Map<String, Tensor> checkpointTensors(ModelInit source) throws IOException {
        Path dir = source.torchEngineDir()
                .orElseThrow(() -> new IOException(source + ": is not a torch engine checkpoint"));
        ModelSpec.Shape s = source.shape();
        try (TorchEngine e = new TorchEngine(s, source.settings(), OptimizerSpec.DEFAULT, 0, s.contextLength(), 1,
                Options.of(Device.CPU, Precision.FP32, 1))) {
            source.verify();
            e.load(dir);
            return e.tensors();
        }
    }

    /**
     * A model of {@code shape} outside a run (benchmarks, device checks): batches of sequences of
     * {@code seqLen} tokens, {@code microBatch} sequences at a time.
     */
    public static TorchEngine of(ModelSpec.Shape shape, OptimizerSpec optimizer, long seed, int seqLen, int microBatch,
                                 Device device, Precision precision, int threads) {
        return of(shape, optimizer, seed, seqLen, microBatch, device, precision, false, threads);
    }

    public static TorchEngine of(ModelSpec.Shape shape, OptimizerSpec optimizer, long seed, int seqLen, int microBatch,
                                 Device device, Precision precision, boolean activationCheckpointing, int threads) {
        return of(shape, optimizer, seed, seqLen, microBatch, Options.of(device, precision, threads).withActivationCheckpointing(activationCheckpointing));
    }

    public static TorchEngine of(ModelSpec.Shape shape, OptimizerSpec optimizer, long seed, int seqLen, int microBatch, Options options) {
        return of(shape, ArchSettings.defaults(shape.arch()), optimizer, seed, seqLen, microBatch, options);
    }

    /** A model of {@code shape} computing as {@code settings} say (a checkpoint's rotary, residual, ...). */
    public static TorchEngine of(ModelSpec.Shape shape, ArchSettings settings, OptimizerSpec optimizer, long seed, int seqLen,
                                 int microBatch, Options options) {
        return new TorchEngine(shape, settings, optimizer, seed, seqLen, microBatch, options);
    }

    /** Whether the loaded shim has cpt's CUDA kernels (it was built with nvcc). */
    public static boolean fusedKernelsAvailable() {
        NativeLibrary.load();
        return cpt_fused_kernels_available() == 1;
    }

    /** Whether this engine runs cpt's fused ops (see {@link Kernels}). */
    public boolean fusedKernels() {
        return fused;
    }

    public static String torchVersion() {
        NativeLibrary.load();
        return cpt_torch_version().reinterpret(64).getString(0);
    }

    /** GPUs the loaded libtorch sees (0 without CUDA). */
    public static int cudaDeviceCount() {
        NativeLibrary.load();
        return cpt_cuda_device_count();
    }

    public static boolean cudaAvailable() {
        NativeLibrary.load();
        return cpt_cuda_available() == 1;
    }

    private static void check(String call, int code) {
        if (code != CPT_OK()) {
            throw new NativeException(call, code, cpt_last_error().reinterpret(Integer.MAX_VALUE).getString(0));
        }
    }

    /**
     * Makes this engine one rank of a data-parallel run over {@code group}: every rank must call it
     * on an engine built from the same plan; rank 0's initial weights are copied to all. From then on
     * {@link #trainStep} and {@link #evalLoss} take the global batch (every rank fills it alike from
     * the same sampler), train on this rank's rows of it ({@link RankSlice}) and return the global
     * loss and gradient norm. {@code zeroStage}: 0 data parallel, 1 AdamW moments sharded, 2
     * gradients reduce-scattered too, 3 weights sharded too (gathered block by block, each block
     * recomputed in the backward). Checkpoints are written by rank 0 and load at any world size and
     * stage. Under ZeRO-3 no rank holds whole tensors: {@link #weights()} is refused.
     */
    public TorchEngine distribute(ProcessGroup group, int zeroStage) {
        return distribute(group, zeroStage, DEFAULT_BUCKET_BYTES);
    }

    public TorchEngine distribute(ProcessGroup group, int zeroStage, long bucketBytes) {
        if (this.group != null) throw new IllegalStateException("this engine is already distributed");
        if (zeroStage < 0 || zeroStage > 3) {
            throw new IllegalArgumentException("ZeRO stage " + zeroStage + ": the torch engine has stages 0 (data parallel), "
                    + "1 (sharded AdamW moments), 2 (and sharded gradients) and 3 (and sharded weights)");
        }
        if (group.backend() == ProcessGroup.Backend.NCCL && device != Device.CUDA) {
            throw new IllegalArgumentException("the NCCL backend reduces CUDA tensors only: use Gloo for --device cpu");
        }
        check("cpt_model_distribute", cpt_model_distribute(model, group.handle(), zeroStage, bucketBytes));
        this.group = group;
        this.zeroStage = zeroStage;
        this.slice = new RankSlice(group.rank(), group.worldSize());
        return this;
    }

    /** This rank's part of {@code batch}: the whole batch on one rank. */
    private Batch rowsOfThisRank(Batch batch) {
        if (slice == null) return batch;
        if (local == null || local.seqLen() != batch.seqLen() || local.sequences() != slice.rows(batch.sequences())) {
            local = slice.newLocal(batch);
        }
        slice.copy(batch, local);
        return local;
    }

    /** The rank of this engine's process (0 on one rank). */
    @Override
    public int rank() {
        return group == null ? 0 : group.rank();
    }

    @Override
    public int worldSize() {
        return group == null ? 1 : group.worldSize();
    }

    public int zeroStage() {
        return zeroStage;
    }

    @Override
    public boolean writesRecords() {
        return rank() == 0;
    }

    /** ZeRO >= 1: every rank writes its own shard of the checkpoint (ZeRO-0: rank 0 writes it all). */
    private boolean writesShards() {
        return group != null && zeroStage >= 1;
    }

    @Override
    public void joinSave(Path dir) throws IOException {
        if (writesShards()) saveShard(dir);
    }

    @Override
    public double[] sumAcrossRanks(double[] values) {
        return group == null ? values : group.allReduceSum(values);
    }

    /**
     * Writes this rank's shard, then its SHA-256 beside it: every rank digests its own shard in
     * parallel, and rank 0's manifest takes the digests from there. Returns on every rank once all
     * shards and digests are on disk.
     */
    private void saveShard(Path dir) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            int code = cpt_save_shard(model, a.allocateFrom(dir.toAbsolutePath().toString()));
            if (code == CPT_ERR_IO()) throw new IOException(cpt_last_error().reinterpret(Integer.MAX_VALUE).getString(0));
            check("cpt_save_shard", code);
        }
        CheckpointManifest.writeSidecar(dir.resolve(shardName(group.rank(), group.worldSize())));
        group.barrier();
    }

    /** The file cpt_save_shard writes for {@code rank} of {@code worldSize}. */
    static String shardName(int rank, int worldSize) {
        return String.format("torch-rank-%05d-of-%05d.pt", rank, worldSize);
    }

    /** A checkpoint's shard files, as cpt_save_shard names them. */
    static boolean hasShards(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return false;
        try (var files = Files.list(dir)) {
            return files.anyMatch(f -> f.getFileName().toString().matches("torch-rank-\\d{5}-of-\\d{5}\\.pt"));
        }
    }

    private MemorySegment tokens(Batch batch) {
        long bytes = (long) batch.tokens().length * Integer.BYTES;
        if (tokens.byteSize() < bytes) tokens = arena.allocate(bytes, 64);
        MemorySegment.copy(batch.tokens(), 0, tokens, ValueLayout.JAVA_INT, 0, batch.tokens().length);
        return tokens;
    }

    @Override
    public StepResult trainStep(Batch global, double lr, double weightDecay) {
        Batch batch = rowsOfThisRank(global);
        int micro = Math.min(microBatch, batch.sequences());
        if (batch.sequences() % micro != 0) micro = batch.sequences();
        double clip = optimizer.gradClip() == null ? 0 : optimizer.gradClip();
        check("cpt_train_step", cpt_train_step(model, tokens(batch), batch.sequences(), batch.seqLen(), micro, lr, weightDecay, clip, result));
        return new StepResult(cpt_step_result.loss(result), cpt_step_result.grad_norm(result));
    }

    @Override
    public double evalLoss(Batch global) {
        Batch batch = rowsOfThisRank(global);
        check("cpt_eval_loss", cpt_eval_loss(model, tokens(batch), batch.sequences(), batch.seqLen(), scalar));
        return scalar.get(ValueLayout.JAVA_DOUBLE, 0);
    }

    @Override
    public void resetOptimizer() {
        check("cpt_reset_optimizer", cpt_reset_optimizer(model));
    }

    @Override
    public void save(Path dir) throws IOException {
        if (writesShards()) {
            saveShard(dir);
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            int code = cpt_save(model, a.allocateFrom(dir.resolve(CHECKPOINT).toAbsolutePath().toString()));
            if (code == CPT_ERR_IO()) throw new IOException(cpt_last_error().reinterpret(Integer.MAX_VALUE).getString(0));
            check("cpt_save", code);
        }
    }

    @Override
    public void load(Path dir) throws IOException {
        Path file = dir.resolve(CHECKPOINT);
        if (!Files.isRegularFile(file) && hasShards(dir)) {
            // Written by the ranks of a sharded run, at whatever world size: this engine takes its part.
            try (Arena a = Arena.ofConfined()) {
                int code = cpt_load_shards(model, a.allocateFrom(dir.toAbsolutePath().toString()));
                if (code == CPT_ERR_IO()) throw new IOException(cpt_last_error().reinterpret(Integer.MAX_VALUE).getString(0));
                check("cpt_load_shards", code);
            }
            return;
        }
        if (!Files.isRegularFile(file)) throw new IOException(file + " is missing: not a torch engine checkpoint");
        try (Arena a = Arena.ofConfined()) {
            int code = cpt_load(model, a.allocateFrom(file.toAbsolutePath().toString()));
            if (code == CPT_ERR_IO()) throw new IOException(cpt_last_error().reinterpret(Integer.MAX_VALUE).getString(0));
            check("cpt_load", code);
        }
    }

    /** Bytes in use, peak and reserved: on CUDA the caching allocator's counters, on the CPU the model's own tensors. */
    public record Memory(long allocatedBytes, long peakAllocatedBytes, long reservedBytes) {}

    public Memory memory() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment stats = cpt_memory_stats.allocate(a);
            check("cpt_memory_statistics", cpt_memory_statistics(model, stats));
            return new Memory(cpt_memory_stats.allocated_bytes(stats), cpt_memory_stats.peak_allocated_bytes(stats),
                    cpt_memory_stats.reserved_bytes(stats));
        }
    }

    /** Bytes of model state this rank holds, by kind: what a ZeRO stage shards shrinks by the world size. */
    public record StateBytes(long weights, long gradients, long optimizer) {
        public long total() {
            return weights + gradients + optimizer;
        }
    }

    /** What the model's tensors hold now (counted from them: a full copy kept anywhere shows). */
    public StateBytes stateBytes() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = cpt_state_bytes.allocate(a);
            check("cpt_model_state_bytes", cpt_model_state_bytes(model, s));
            return new StateBytes(cpt_state_bytes.weights(s), cpt_state_bytes.gradients(s),
                    cpt_state_bytes.optimizer(s));
        }
    }

    /** Starts a new peak for {@link #memory()} (CUDA). */
    public void resetPeakMemory() {
        check("cpt_memory_reset_peak", cpt_memory_reset_peak(model));
    }

    public Device device() {
        return device;
    }

    @Override
    public EngineInfo info() {
        String ranks = group == null ? "" : ", " + group.worldSize() + " ranks, ZeRO-" + zeroStage;
        return new EngineInfo("torch (" + device.name().toLowerCase() + ranks + ")", parameters, flopsPerToken);
    }

    /** The model's tensors by name (gpt2: the simulator's names and [out, in] layout). */
    public Map<String, float[]> weights() {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (String name : tensorNames()) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment n = a.allocateFrom(name);
                MemorySegment count = a.allocate(ValueLayout.JAVA_LONG);
                check("cpt_model_tensor_numel", cpt_model_tensor_numel(model, n, count));
                long numel = count.get(ValueLayout.JAVA_LONG, 0);
                MemorySegment dst = a.allocate(ValueLayout.JAVA_FLOAT, numel);
                check("cpt_model_get_tensor", cpt_model_get_tensor(model, n, dst, numel));
                out.put(name, dst.toArray(ValueLayout.JAVA_FLOAT));
            }
        }
        return out;
    }

    /** Sets tensors by name; every name must be the model's and every size must match. */
    public void setWeights(Map<String, float[]> weights) {
        for (var e : weights.entrySet()) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment src = a.allocateFrom(ValueLayout.JAVA_FLOAT, e.getValue());
                check("cpt_model_set_tensor", cpt_model_set_tensor(model, a.allocateFrom(e.getKey()), src, e.getValue().length));
            }
        }
    }

    public List<String> tensorNames() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(ValueLayout.JAVA_INT);
            check("cpt_model_tensor_count", cpt_model_tensor_count(model, count));
            List<String> names = new ArrayList<>();
            MemorySegment buffer = a.allocate(256);
            for (int i = 0; i < count.get(ValueLayout.JAVA_INT, 0); i++) {
                check("cpt_model_tensor_name", cpt_model_tensor_name(model, i, buffer, 256));
                names.add(buffer.getString(0));
            }
            return names;
        }
    }

    /** Scoring reads whole tensors: every engine but a ZeRO-3 rank's (each of the others scores alike; rank 0 writes). */
    @Override
    public boolean canScoreTokens() {
        return group == null || zeroStage < 3;
    }

    @Override
    public boolean canDecode() {
        return canScoreTokens();
    }

    /**
     * Per-position log-probabilities for cpt eval: the rows go to the library together, right-padded
     * to the longest, in one forward without gradients (causal attention: the padding changes no
     * row's scores); log softmax in float32 from the logits as computed (bf16 under CUDA autocast).
     * The caller batches ({@code cpt eval --batch}).
     */
    @Override
    public List<TokenScores> scoreTokens(List<int[]> sequences) {
        if (sequences.isEmpty()) return List.of();
        int rows = sequences.size();
        int longest = 0;
        int[] lengths = new int[rows];
        for (int i = 0; i < rows; i++) {
            int n = sequences.get(i).length;
            if (n < 2 || n > shape.contextLength() + 1) {
                throw new IllegalArgumentException("sequence " + i + " has " + n + " tokens; scoring needs 2 to "
                        + (shape.contextLength() + 1) + " (the model's context + 1)");
            }
            lengths[i] = n;
            longest = Math.max(longest, n);
        }
        int positions = longest - 1;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment toks = a.allocate(ValueLayout.JAVA_INT, (long) rows * longest);
            for (int r = 0; r < rows; r++) {
                int[] s = sequences.get(r);
                MemorySegment.copy(s, 0, toks, ValueLayout.JAVA_INT, (long) r * longest * Integer.BYTES, s.length);
            }
            MemorySegment lens = a.allocateFrom(ValueLayout.JAVA_INT, lengths);
            MemorySegment logProbs = a.allocate(ValueLayout.JAVA_DOUBLE, (long) rows * positions);
            MemorySegment greedy = a.allocate(ValueLayout.JAVA_INT, (long) rows * positions);
            check("cpt_score_tokens", cpt_score_tokens(model, toks, lens, rows, longest, logProbs, greedy));
            List<TokenScores> out = new ArrayList<>(rows);
            for (int r = 0; r < rows; r++) {
                int n = lengths[r] - 1;
                double[] lp = new double[n];
                boolean[] g = new boolean[n];
                for (int i = 0; i < n; i++) {
                    long at = (long) r * positions + i;
                    lp[i] = logProbs.getAtIndex(ValueLayout.JAVA_DOUBLE, at);
                    g[i] = greedy.getAtIndex(ValueLayout.JAVA_INT, at) != 0;
                }
                out.add(new TokenScores(lp, g));
            }
            return out;
        }
    }

    /**
     * The full forward's logits of one sequence (1 to the context's tokens), {@code [position][vocab]}:
     * what the KV-cached {@link #decoder()} must reproduce one position at a time.
     */
    public float[][] forwardLogits(int[] sequence) {
        int n = sequence.length;
        if (n < 1 || n > shape.contextLength()) {
            throw new IllegalArgumentException("the sequence has " + n + " tokens; the forward takes 1 to " + shape.contextLength());
        }
        int v = shape.vocabSize();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment toks = a.allocateFrom(ValueLayout.JAVA_INT, sequence);
            MemorySegment logits = a.allocate(ValueLayout.JAVA_FLOAT, (long) n * v);
            check("cpt_forward_logits", cpt_forward_logits(model, toks, n, logits));
            float[][] out = new float[n][];
            for (int i = 0; i < n; i++) {
                out[i] = logits.asSlice((long) i * v * Float.BYTES, (long) v * Float.BYTES).toArray(ValueLayout.JAVA_FLOAT);
            }
            return out;
        }
    }

    /** Decoders not yet closed: the engine closes them before its model goes (they point into it). */
    private final java.util.Set<TorchDecoder> openDecoders = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * A KV-cached decoder in the library (cpt_decoder_*): each layer's keys and values of the
     * tokens fed so far stay on the device, and each new token runs one position's forward at its
     * own position (gpt2's learned position, neox's rotary angle).
     */
    @Override
    public Decoder decoder() {
        if (closed) throw new IllegalStateException("the engine is closed");
        TorchDecoder d = new TorchDecoder();
        openDecoders.add(d);
        return d;
    }

    private final class TorchDecoder implements Decoder {
        private final Arena decoderArena = Arena.ofShared();
        private final MemorySegment handle;
        private final MemorySegment logitsOut;
        private final float[] logits = new float[shape.vocabSize()];
        private int length;
        private boolean done;

        TorchDecoder() {
            MemorySegment out = decoderArena.allocate(ValueLayout.ADDRESS);
            int code = cpt_decoder_create(model, out);
            if (code != CPT_OK()) {
                decoderArena.close();
                check("cpt_decoder_create", code);
            }
            handle = out.get(ValueLayout.ADDRESS, 0);
            logitsOut = decoderArena.allocate(ValueLayout.JAVA_FLOAT, shape.vocabSize());
        }

        @Override
        public int contextLength() {
            return shape.contextLength();
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public float[] append(int token) {
            if (done) throw new IllegalStateException("the decoder is closed");
            Decoder.checkAppend(length, shape.contextLength(), shape.vocabSize(), token);
            check("cpt_decoder_append", cpt_decoder_append(handle, token, logitsOut));
            MemorySegment.copy(logitsOut, ValueLayout.JAVA_FLOAT, 0, logits, 0, logits.length);
            length++;
            return logits;
        }

        @Override
        public synchronized void close() {
            if (done) return;
            done = true;
            openDecoders.remove(this);
            cpt_decoder_destroy(handle);
            decoderArena.close();
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (TorchDecoder d : List.copyOf(openDecoders)) d.close();
        cpt_model_destroy(model);
        arena.close();
    }
}
