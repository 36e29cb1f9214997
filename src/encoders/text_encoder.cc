#include "encoders/text_encoder.h"

#include <cmath>

#include "layers/module_util.h"
#include "layers/position_embedding.h"
#include "videoprism/core/error.h"

namespace videoprism {

EmbeddingImpl::EmbeddingImpl(int64_t vocabulary_size, int64_t dim) {
  emb_var = register_parameter("emb_var", empty_param({vocabulary_size, dim}));
}

TextEncoderImpl::TextEncoderImpl(int64_t vocabulary_size, int64_t model_dim, int64_t num_layers,
                                 int64_t num_heads, int64_t mlp_dim, double atten_logit_cap, NormPolicy norm_policy,
                                 bool causal, bool scan)
    : vocabulary_size_(vocabulary_size), model_dim_(model_dim) {
  token_emb = register_module("token_emb", Embedding(vocabulary_size, model_dim));
  cls_emb = register_parameter("cls_emb", empty_param({1, 1, model_dim}));
  TransformerOptions options;
  options.model_dim = model_dim;
  options.hidden_dim = mlp_dim;
  options.num_heads = num_heads;
  options.norm_policy = norm_policy;
  options.activation = Activation::kRelu;
  options.atten_logit_cap = atten_logit_cap;
  unimodal_transformer =
      register_module("unimodal_transformer", StackedTransformer(num_layers, options, scan, causal));
  unimodal_ln = register_module("unimodal_ln", LayerNorm(model_dim));
}

torch::Tensor TextEncoderImpl::forward(const torch::Tensor& ids, const torch::Tensor& paddings,
                                       torch::ScalarType dtype) {
  check_arg(ids.dim() == 2 && ids.size(0) > 0 && ids.size(1) > 0, "text_token_ids: expected [B, L] with B, L > 0, got ",
        shape_str(ids.sizes()));
  check_arg(!ids.is_floating_point() && ids.scalar_type() != torch::kBool, "text_token_ids: expected an integer array, got ", ids.scalar_type());
  check_arg(paddings.defined() && paddings.sizes() == ids.sizes(), "text_paddings: expected ", shape_str(ids.sizes()),
        ", got ", paddings.defined() ? shape_str(paddings.sizes()) : std::string("none"));
  if (ids.numel() > 0) {
    const int64_t low = ids.min().item<int64_t>(), high = ids.max().item<int64_t>();
    check_arg(low >= 0 && high < vocabulary_size_, "text_token_ids: expected ids in [0, ", vocabulary_size_,
          "), got values in [", low, ", ", high, "]");
  }
  const int64_t batch = ids.size(0), length = ids.size(1);
  const float scale = static_cast<float>(std::sqrt(static_cast<double>(model_dim_)));
  torch::Tensor x = token_emb->emb_var.index_select(0, ids.reshape({-1}).to(torch::kLong).to(cls_emb.device()))
                        .to(dtype)
                        .view({batch, length, model_dim_}) *
                    scale;
  x = x + sinusoidal_position_embedding(length, model_dim_).to(x.device(), dtype).unsqueeze(0);
  torch::Tensor cls = (cls_emb.to(dtype) * scale).expand({batch, 1, model_dim_});
  x = torch::cat({x, cls}, 1);  // [B, L+1, D]
  torch::Tensor all_paddings =
      torch::cat({paddings.to(x.device(), dtype), torch::zeros({batch, 1}, x.options())}, 1);  // [B, L+1]
  x = unimodal_transformer->forward(x, all_paddings);
  return unimodal_ln->forward(x);
}

}  // namespace videoprism
