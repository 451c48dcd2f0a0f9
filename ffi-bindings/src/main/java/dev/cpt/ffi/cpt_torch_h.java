package dev.cpt.ffi;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The bindings of {@code native/cpt_torch.h}, written by hand in the shape jextract gives (a holder
 * class per function with its descriptor and handle, a typed static wrapper, the macros as
 * methods); {@code HeaderBindingsTest} checks every function and struct field of the header against
 * them. The library is loaded on the first call ({@link NativeLibrary#load}).
 */
public final class cpt_torch_h {
    private cpt_torch_h() {}

    public static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;
    public static final ValueLayout.OfLong C_LONG = ValueLayout.JAVA_LONG;
    public static final ValueLayout.OfDouble C_DOUBLE = ValueLayout.JAVA_DOUBLE;
    public static final AddressLayout C_POINTER = ValueLayout.ADDRESS;

    static MemorySegment findOrThrow(String symbol) {
        return NativeLibrary.load().find(symbol)
                .orElseThrow(() -> new UnsatisfiedLinkError(NativeLibrary.path() + " has no symbol " + symbol + "; rebuild it (native/build.sh)"));
    }

    private static final int CPT_OK = 0;

    public static int CPT_OK() {
        return CPT_OK;
    }

    private static final int CPT_ERR_ARGUMENT = 1;

    public static int CPT_ERR_ARGUMENT() {
        return CPT_ERR_ARGUMENT;
    }

    private static final int CPT_ERR_DEVICE = 2;

    public static int CPT_ERR_DEVICE() {
        return CPT_ERR_DEVICE;
    }

    private static final int CPT_ERR_IO = 3;

    public static int CPT_ERR_IO() {
        return CPT_ERR_IO;
    }

    private static final int CPT_ERR_TORCH = 4;

    public static int CPT_ERR_TORCH() {
        return CPT_ERR_TORCH;
    }

    private static final int CPT_ERR_INTERNAL = 5;

    public static int CPT_ERR_INTERNAL() {
        return CPT_ERR_INTERNAL;
    }

    private static final int CPT_ERR_DISTRIBUTED = 6;

    public static int CPT_ERR_DISTRIBUTED() {
        return CPT_ERR_DISTRIBUTED;
    }

    private static final int CPT_ARCH_GPT2 = 0;

    public static int CPT_ARCH_GPT2() {
        return CPT_ARCH_GPT2;
    }

    private static final int CPT_ARCH_NEOX = 1;

    public static int CPT_ARCH_NEOX() {
        return CPT_ARCH_NEOX;
    }

    private static final int CPT_ARCH_MPT = 2;

    public static int CPT_ARCH_MPT() {
        return CPT_ARCH_MPT;
    }

    private static final int CPT_DEVICE_CPU = 0;

    public static int CPT_DEVICE_CPU() {
        return CPT_DEVICE_CPU;
    }

    private static final int CPT_DEVICE_CUDA = 1;

    public static int CPT_DEVICE_CUDA() {
        return CPT_DEVICE_CUDA;
    }

    private static final int CPT_PRECISION_FP32 = 0;

    public static int CPT_PRECISION_FP32() {
        return CPT_PRECISION_FP32;
    }

    private static final int CPT_PRECISION_BF16 = 1;

    public static int CPT_PRECISION_BF16() {
        return CPT_PRECISION_BF16;
    }

    private static final int CPT_BACKEND_GLOO = 0;

    public static int CPT_BACKEND_GLOO() {
        return CPT_BACKEND_GLOO;
    }

    private static final int CPT_BACKEND_NCCL = 1;

    public static int CPT_BACKEND_NCCL() {
        return CPT_BACKEND_NCCL;
    }

    private static final int CPT_ACT_GELU_EXACT = 0;

    public static int CPT_ACT_GELU_EXACT() {
        return CPT_ACT_GELU_EXACT;
    }

    private static final int CPT_ACT_GELU_TANH = 1;

    public static int CPT_ACT_GELU_TANH() {
        return CPT_ACT_GELU_TANH;
    }

    private static final class cpt_last_error {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_last_error");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_last_error$descriptor() {
        return cpt_last_error.DESC;
    }

    public static MethodHandle cpt_last_error$handle() {
        return cpt_last_error.Linked.HANDLE;
    }

    public static MemorySegment cpt_last_error() {
        var mh$ = cpt_last_error.Linked.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact();
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_torch_version {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_torch_version");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_torch_version$descriptor() {
        return cpt_torch_version.DESC;
    }

    public static MethodHandle cpt_torch_version$handle() {
        return cpt_torch_version.Linked.HANDLE;
    }

    public static MemorySegment cpt_torch_version() {
        var mh$ = cpt_torch_version.Linked.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact();
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_cuda_available {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_cuda_available");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_cuda_available$descriptor() {
        return cpt_cuda_available.DESC;
    }

    public static MethodHandle cpt_cuda_available$handle() {
        return cpt_cuda_available.Linked.HANDLE;
    }

    public static int cpt_cuda_available() {
        var mh$ = cpt_cuda_available.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact();
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_fused_kernels_available {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_fused_kernels_available");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_fused_kernels_available$descriptor() {
        return cpt_fused_kernels_available.DESC;
    }

    public static MethodHandle cpt_fused_kernels_available$handle() {
        return cpt_fused_kernels_available.Linked.HANDLE;
    }

    public static int cpt_fused_kernels_available() {
        var mh$ = cpt_fused_kernels_available.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact();
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_model_create {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_model_create");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_model_create$descriptor() {
        return cpt_model_create.DESC;
    }

    public static MethodHandle cpt_model_create$handle() {
        return cpt_model_create.Linked.HANDLE;
    }

    public static int cpt_model_create(MemorySegment config, MemorySegment out) {
        var mh$ = cpt_model_create.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(config, out);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_model_destroy {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_model_destroy");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_model_destroy$descriptor() {
        return cpt_model_destroy.DESC;
    }

    public static MethodHandle cpt_model_destroy$handle() {
        return cpt_model_destroy.Linked.HANDLE;
    }

    public static void cpt_model_destroy(MemorySegment model) {
        var mh$ = cpt_model_destroy.Linked.HANDLE;
        try {
            mh$.invokeExact(model);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_model_parameter_count {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_model_parameter_count");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_model_parameter_count$descriptor() {
        return cpt_model_parameter_count.DESC;
    }

    public static MethodHandle cpt_model_parameter_count$handle() {
        return cpt_model_parameter_count.Linked.HANDLE;
    }

    public static int cpt_model_parameter_count(MemorySegment model, MemorySegment out) {
        var mh$ = cpt_model_parameter_count.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model, out);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_model_tensor_count {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_model_tensor_count");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_model_tensor_count$descriptor() {
        return cpt_model_tensor_count.DESC;
    }

    public static MethodHandle cpt_model_tensor_count$handle() {
        return cpt_model_tensor_count.Linked.HANDLE;
    }

    public static int cpt_model_tensor_count(MemorySegment model, MemorySegment out) {
        var mh$ = cpt_model_tensor_count.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model, out);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_model_tensor_name {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_INT);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_model_tensor_name");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_model_tensor_name$descriptor() {
        return cpt_model_tensor_name.DESC;
    }

    public static MethodHandle cpt_model_tensor_name$handle() {
        return cpt_model_tensor_name.Linked.HANDLE;
    }

    public static int cpt_model_tensor_name(MemorySegment model, int index, MemorySegment buffer, int capacity) {
        var mh$ = cpt_model_tensor_name.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model, index, buffer, capacity);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_model_tensor_numel {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_model_tensor_numel");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_model_tensor_numel$descriptor() {
        return cpt_model_tensor_numel.DESC;
    }

    public static MethodHandle cpt_model_tensor_numel$handle() {
        return cpt_model_tensor_numel.Linked.HANDLE;
    }

    public static int cpt_model_tensor_numel(MemorySegment model, MemorySegment name, MemorySegment out) {
        var mh$ = cpt_model_tensor_numel.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model, name, out);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_model_get_tensor {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER, cpt_torch_h.C_LONG);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_model_get_tensor");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_model_get_tensor$descriptor() {
        return cpt_model_get_tensor.DESC;
    }

    public static MethodHandle cpt_model_get_tensor$handle() {
        return cpt_model_get_tensor.Linked.HANDLE;
    }

    public static int cpt_model_get_tensor(MemorySegment model, MemorySegment name, MemorySegment destination, long numel) {
        var mh$ = cpt_model_get_tensor.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model, name, destination, numel);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_model_set_tensor {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER, cpt_torch_h.C_LONG);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_model_set_tensor");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_model_set_tensor$descriptor() {
        return cpt_model_set_tensor.DESC;
    }

    public static MethodHandle cpt_model_set_tensor$handle() {
        return cpt_model_set_tensor.Linked.HANDLE;
    }

    public static int cpt_model_set_tensor(MemorySegment model, MemorySegment name, MemorySegment source, long numel) {
        var mh$ = cpt_model_set_tensor.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model, name, source, numel);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_train_step {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER, cpt_torch_h.C_INT, cpt_torch_h.C_INT, cpt_torch_h.C_INT, cpt_torch_h.C_DOUBLE, cpt_torch_h.C_DOUBLE, cpt_torch_h.C_DOUBLE, cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_train_step");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_train_step$descriptor() {
        return cpt_train_step.DESC;
    }

    public static MethodHandle cpt_train_step$handle() {
        return cpt_train_step.Linked.HANDLE;
    }

    public static int cpt_train_step(MemorySegment model, MemorySegment tokens, int sequences, int seq_len, int micro_batch, double lr, double weight_decay, double grad_clip, MemorySegment out) {
        var mh$ = cpt_train_step.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model, tokens, sequences, seq_len, micro_batch, lr, weight_decay, grad_clip, out);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_eval_loss {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER, cpt_torch_h.C_INT, cpt_torch_h.C_INT, cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_eval_loss");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_eval_loss$descriptor() {
        return cpt_eval_loss.DESC;
    }

    public static MethodHandle cpt_eval_loss$handle() {
        return cpt_eval_loss.Linked.HANDLE;
    }

    public static int cpt_eval_loss(MemorySegment model, MemorySegment tokens, int sequences, int seq_len, MemorySegment out) {
        var mh$ = cpt_eval_loss.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model, tokens, sequences, seq_len, out);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_reset_optimizer {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_reset_optimizer");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_reset_optimizer$descriptor() {
        return cpt_reset_optimizer.DESC;
    }

    public static MethodHandle cpt_reset_optimizer$handle() {
        return cpt_reset_optimizer.Linked.HANDLE;
    }

    public static int cpt_reset_optimizer(MemorySegment model) {
        var mh$ = cpt_reset_optimizer.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_save {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_save");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_save$descriptor() {
        return cpt_save.DESC;
    }

    public static MethodHandle cpt_save$handle() {
        return cpt_save.Linked.HANDLE;
    }

    public static int cpt_save(MemorySegment model, MemorySegment path) {
        var mh$ = cpt_save.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model, path);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_load {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_load");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_load$descriptor() {
        return cpt_load.DESC;
    }

    public static MethodHandle cpt_load$handle() {
        return cpt_load.Linked.HANDLE;
    }

    public static int cpt_load(MemorySegment model, MemorySegment path) {
        var mh$ = cpt_load.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model, path);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_memory_statistics {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_memory_statistics");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_memory_statistics$descriptor() {
        return cpt_memory_statistics.DESC;
    }

    public static MethodHandle cpt_memory_statistics$handle() {
        return cpt_memory_statistics.Linked.HANDLE;
    }

    public static int cpt_memory_statistics(MemorySegment model, MemorySegment out) {
        var mh$ = cpt_memory_statistics.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model, out);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_memory_reset_peak {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER);
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_memory_reset_peak");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_memory_reset_peak$descriptor() {
        return cpt_memory_reset_peak.DESC;
    }

    public static MethodHandle cpt_memory_reset_peak$handle() {
        return cpt_memory_reset_peak.Linked.HANDLE;
    }

    public static int cpt_memory_reset_peak(MemorySegment model) {
        var mh$ = cpt_memory_reset_peak.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_gloo_available {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT);
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_gloo_available");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_gloo_available$descriptor() {
        return cpt_gloo_available.DESC;
    }

    public static MethodHandle cpt_gloo_available$handle() {
        return cpt_gloo_available.Linked.HANDLE;
    }

    public static int cpt_gloo_available() {
        var mh$ = cpt_gloo_available.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact();
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_nccl_available {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT);
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_nccl_available");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_nccl_available$descriptor() {
        return cpt_nccl_available.DESC;
    }

    public static MethodHandle cpt_nccl_available$handle() {
        return cpt_nccl_available.Linked.HANDLE;
    }

    public static int cpt_nccl_available() {
        var mh$ = cpt_nccl_available.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact();
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_group_create {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER);
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_group_create");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_group_create$descriptor() {
        return cpt_group_create.DESC;
    }

    public static MethodHandle cpt_group_create$handle() {
        return cpt_group_create.Linked.HANDLE;
    }

    public static int cpt_group_create(MemorySegment config, MemorySegment out) {
        var mh$ = cpt_group_create.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(config, out);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_group_destroy {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(cpt_torch_h.C_POINTER);
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_group_destroy");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_group_destroy$descriptor() {
        return cpt_group_destroy.DESC;
    }

    public static MethodHandle cpt_group_destroy$handle() {
        return cpt_group_destroy.Linked.HANDLE;
    }

    public static void cpt_group_destroy(MemorySegment group) {
        var mh$ = cpt_group_destroy.Linked.HANDLE;
        try {
            mh$.invokeExact(group);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_group_barrier {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER);
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_group_barrier");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_group_barrier$descriptor() {
        return cpt_group_barrier.DESC;
    }

    public static MethodHandle cpt_group_barrier$handle() {
        return cpt_group_barrier.Linked.HANDLE;
    }

    public static int cpt_group_barrier(MemorySegment group) {
        var mh$ = cpt_group_barrier.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(group);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_group_all_reduce_sum {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER, cpt_torch_h.C_INT);
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_group_all_reduce_sum");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_group_all_reduce_sum$descriptor() {
        return cpt_group_all_reduce_sum.DESC;
    }

    public static MethodHandle cpt_group_all_reduce_sum$handle() {
        return cpt_group_all_reduce_sum.Linked.HANDLE;
    }

    public static int cpt_group_all_reduce_sum(MemorySegment group, MemorySegment values, int count) {
        var mh$ = cpt_group_all_reduce_sum.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(group, values, count);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_model_distribute {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER, cpt_torch_h.C_INT, cpt_torch_h.C_LONG);
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_model_distribute");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_model_distribute$descriptor() {
        return cpt_model_distribute.DESC;
    }

    public static MethodHandle cpt_model_distribute$handle() {
        return cpt_model_distribute.Linked.HANDLE;
    }

    public static int cpt_model_distribute(MemorySegment model, MemorySegment group, int zero_stage, long bucket_bytes) {
        var mh$ = cpt_model_distribute.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model, group, zero_stage, bucket_bytes);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_model_state_bytes {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER);
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_model_state_bytes");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_model_state_bytes$descriptor() {
        return cpt_model_state_bytes.DESC;
    }

    public static MethodHandle cpt_model_state_bytes$handle() {
        return cpt_model_state_bytes.Linked.HANDLE;
    }

    public static int cpt_model_state_bytes(MemorySegment model, MemorySegment out) {
        var mh$ = cpt_model_state_bytes.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model, out);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_cuda_device_count {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT);
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_cuda_device_count");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_cuda_device_count$descriptor() {
        return cpt_cuda_device_count.DESC;
    }

    public static MethodHandle cpt_cuda_device_count$handle() {
        return cpt_cuda_device_count.Linked.HANDLE;
    }

    public static int cpt_cuda_device_count() {
        var mh$ = cpt_cuda_device_count.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact();
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_save_shard {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER);
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_save_shard");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_save_shard$descriptor() {
        return cpt_save_shard.DESC;
    }

    public static MethodHandle cpt_save_shard$handle() {
        return cpt_save_shard.Linked.HANDLE;
    }

    public static int cpt_save_shard(MemorySegment model, MemorySegment dir) {
        var mh$ = cpt_save_shard.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model, dir);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_load_shards {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER);
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_load_shards");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_load_shards$descriptor() {
        return cpt_load_shards.DESC;
    }

    public static MethodHandle cpt_load_shards$handle() {
        return cpt_load_shards.Linked.HANDLE;
    }

    public static int cpt_load_shards(MemorySegment model, MemorySegment dir) {
        var mh$ = cpt_load_shards.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model, dir);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_score_tokens {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER, cpt_torch_h.C_INT, cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_score_tokens");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_score_tokens$descriptor() {
        return cpt_score_tokens.DESC;
    }

    public static MethodHandle cpt_score_tokens$handle() {
        return cpt_score_tokens.Linked.HANDLE;
    }

    public static int cpt_score_tokens(MemorySegment model, MemorySegment tokens, MemorySegment lengths, int rows, int max_len, MemorySegment out_logprobs, MemorySegment out_greedy) {
        var mh$ = cpt_score_tokens.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model, tokens, lengths, rows, max_len, out_logprobs, out_greedy);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_forward_logits {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER, cpt_torch_h.C_INT, cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_forward_logits");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_forward_logits$descriptor() {
        return cpt_forward_logits.DESC;
    }

    public static MethodHandle cpt_forward_logits$handle() {
        return cpt_forward_logits.Linked.HANDLE;
    }

    public static int cpt_forward_logits(MemorySegment model, MemorySegment tokens, int length, MemorySegment out_logits) {
        var mh$ = cpt_forward_logits.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model, tokens, length, out_logits);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_decoder_create {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_decoder_create");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_decoder_create$descriptor() {
        return cpt_decoder_create.DESC;
    }

    public static MethodHandle cpt_decoder_create$handle() {
        return cpt_decoder_create.Linked.HANDLE;
    }

    public static int cpt_decoder_create(MemorySegment model, MemorySegment out) {
        var mh$ = cpt_decoder_create.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(model, out);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_decoder_destroy {
        static final FunctionDescriptor DESC = FunctionDescriptor.ofVoid(cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_decoder_destroy");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_decoder_destroy$descriptor() {
        return cpt_decoder_destroy.DESC;
    }

    public static MethodHandle cpt_decoder_destroy$handle() {
        return cpt_decoder_destroy.Linked.HANDLE;
    }

    public static void cpt_decoder_destroy(MemorySegment decoder) {
        var mh$ = cpt_decoder_destroy.Linked.HANDLE;
        try {
            mh$.invokeExact(decoder);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_decoder_append {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_INT, cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_decoder_append");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_decoder_append$descriptor() {
        return cpt_decoder_append.DESC;
    }

    public static MethodHandle cpt_decoder_append$handle() {
        return cpt_decoder_append.Linked.HANDLE;
    }

    public static int cpt_decoder_append(MemorySegment decoder, int token, MemorySegment out_logits) {
        var mh$ = cpt_decoder_append.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(decoder, token, out_logits);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cpt_decoder_length {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(cpt_torch_h.C_INT, cpt_torch_h.C_POINTER, cpt_torch_h.C_POINTER);
        // Linked on first call, so that the descriptors can be read without the library.
        static final class Linked {
            static final MemorySegment ADDR = findOrThrow("cpt_decoder_length");
            static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
        }
    }

    public static FunctionDescriptor cpt_decoder_length$descriptor() {
        return cpt_decoder_length.DESC;
    }

    public static MethodHandle cpt_decoder_length$handle() {
        return cpt_decoder_length.Linked.HANDLE;
    }

    public static int cpt_decoder_length(MemorySegment decoder, MemorySegment out) {
        var mh$ = cpt_decoder_length.Linked.HANDLE;
        try {
            return (int) mh$.invokeExact(decoder, out);
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

}
