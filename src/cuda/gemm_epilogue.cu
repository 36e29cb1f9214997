#include "cuda/gemm_epilogue.h"

#include <cublasLt.h>

#include <map>
#include <memory>
#include <mutex>
#include <tuple>

namespace videoprism::cuda {
namespace {

// cuBLASLt is column-major. A row-major [M, N] output is the column-major
// [N, M] matrix D = op(A) B with A = W and B = x^T:
//   x row-major [M, K]            = column-major [K, M], ld K     (B, no transpose)
//   W row-major [K, N]            = column-major [N, K], ld N     (A, no transpose)
//   W row-major [N, K] (weight_nk) = column-major [K, N], ld K    (A, transposed)
//   residual / out row-major [M, N] = column-major [N, M], ld N  (C, D)
// The bias epilogue adds a vector over D's rows, i.e. the N output features.
struct Plan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, cd = nullptr;
  cublasLtMatmulAlgo_t algo{};
  size_t workspace = 0;
  int status = CUBLAS_STATUS_SUCCESS;  // failure kept so a bad shape is not re-planned per call

  ~Plan() {
    if (cd) cublasLtMatrixLayoutDestroy(cd);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

using Key = std::tuple<int64_t, int64_t, int64_t, bool, size_t>;

struct State {
  std::mutex mutex;
  cublasLtHandle_t handle = nullptr;
  int handle_status = CUBLAS_STATUS_SUCCESS;
  std::map<Key, std::unique_ptr<Plan>> plans;
};

State& state() {
  static State* s = [] {
    auto* created = new State();  // never destroyed: plans may be in use at exit
    created->handle_status = cublasLtCreate(&created->handle);
    return created;
  }();
  return *s;
}

#define VP_LT(call)                         \
  do {                                      \
    const cublasStatus_t status_ = (call);  \
    if (status_ != CUBLAS_STATUS_SUCCESS) { \
      plan->status = status_;               \
      return plan;                          \
    }                                       \
  } while (0)

std::unique_ptr<Plan> make_plan(cublasLtHandle_t handle, const GemmBiasResidualParams& p) {
  auto plan = std::make_unique<Plan>();
  VP_LT(cublasLtMatmulDescCreate(&plan->op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t trans_a = p.weight_nk ? CUBLAS_OP_T : CUBLAS_OP_N, trans_b = CUBLAS_OP_N;
  VP_LT(cublasLtMatmulDescSetAttribute(plan->op, CUBLASLT_MATMUL_DESC_TRANSA, &trans_a, sizeof(trans_a)));
  VP_LT(cublasLtMatmulDescSetAttribute(plan->op, CUBLASLT_MATMUL_DESC_TRANSB, &trans_b, sizeof(trans_b)));
  const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
  VP_LT(cublasLtMatmulDescSetAttribute(plan->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue)));
  const cudaDataType_t bias_type = CUDA_R_16BF;
  VP_LT(cublasLtMatmulDescSetAttribute(plan->op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type, sizeof(bias_type)));
  // The bias pointer is set per call (the plan is shared by every layer of this shape).
  if (p.weight_nk) {
    VP_LT(cublasLtMatrixLayoutCreate(&plan->a, CUDA_R_16BF, p.k, p.n, p.k));
  } else {
    VP_LT(cublasLtMatrixLayoutCreate(&plan->a, CUDA_R_16BF, p.n, p.k, p.n));
  }
  VP_LT(cublasLtMatrixLayoutCreate(&plan->b, CUDA_R_16BF, p.k, p.m, p.k));
  VP_LT(cublasLtMatrixLayoutCreate(&plan->cd, CUDA_R_16BF, p.n, p.m, p.n));

  cublasLtMatmulPreference_t preference = nullptr;
  VP_LT(cublasLtMatmulPreferenceCreate(&preference));
  const size_t workspace = p.workspace_bytes;
  cublasStatus_t status = cublasLtMatmulPreferenceSetAttribute(
      preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof(workspace));
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  if (status == CUBLAS_STATUS_SUCCESS) {
    status = cublasLtMatmulAlgoGetHeuristic(handle, plan->op, plan->a, plan->b, plan->cd, plan->cd, preference, 1,
                                            &result, &found);
  }
  cublasLtMatmulPreferenceDestroy(preference);
  if (status == CUBLAS_STATUS_SUCCESS && (found == 0 || result.state != CUBLAS_STATUS_SUCCESS)) {
    status = CUBLAS_STATUS_NOT_SUPPORTED;
  }
  if (status != CUBLAS_STATUS_SUCCESS) {
    plan->status = status;
    return plan;
  }
  plan->algo = result.algo;
  plan->workspace = result.workspaceSize;
  return plan;
}

#undef VP_LT

}  // namespace

int gemm_bias_residual(const GemmBiasResidualParams& p, cudaStream_t stream) {
  State& s = state();
  // One lock over plan lookup, bias pointer and launch: the plan (and the bias
  // pointer in its descriptor) is shared by every layer of the same shape.
  // cublasLtMatmul only enqueues, so the lock is held for microseconds.
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.handle_status != CUBLAS_STATUS_SUCCESS) return s.handle_status;
  const Key key{p.m, p.n, p.k, p.weight_nk, p.workspace_bytes};
  auto it = s.plans.find(key);
  if (it == s.plans.end()) it = s.plans.emplace(key, make_plan(s.handle, p)).first;
  const Plan& plan = *it->second;
  if (plan.status != CUBLAS_STATUS_SUCCESS) return plan.status;
  cublasStatus_t status =
      cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &p.bias, sizeof(p.bias));
  if (status != CUBLAS_STATUS_SUCCESS) return status;
  const float one = 1.0f;
  status = cublasLtMatmul(s.handle, plan.op, &one, p.weight, plan.a, p.x, plan.b, &one, p.residual, plan.cd, p.out,
                          plan.cd, &plan.algo, p.workspace, plan.workspace, stream);
  return status;
}

const char* gemm_status_name(int status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "unknown cuBLAS status";
  }
}

}  // namespace videoprism::cuda
