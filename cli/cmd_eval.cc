// videoprism eval: frozen-backbone evaluation.
//   eval probe      MAP / linear probe on frozen tokens, several seeds, controls
//   eval zeroshot   zero-shot classification with a video-text model
//   eval retrieval  text<->video Recall@1/5/10 and median rank
// Each prints the chance level beside its result and writes a JSON summary.
#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "run_flags.h"
#include "videoprism/apps/embedder.h"
#include "videoprism/core/error.h"
#include "videoprism/apps/features.h"
#include "videoprism/apps/probe.h"
#include "videoprism/apps/retrieval.h"
#include "videoprism/apps/synth.h"
#include "videoprism/media/tokenizer.h"
#include "videoprism/apps/zero_shot.h"

namespace videoprism::cli {
namespace {

struct EvalArgs {
  std::string checkpoint, data, test, task = "class", kind = "map", control = "none", out, tokenizer;
  std::string labels, labels_file, templates = "kinetics", device = "cpu", dtype = "f32";
  int frames = 0, size = 0, seeds = 3, epochs = 30, batch = 32, feature_batch = 8, heads = 0, threads = 0;
  double lr = 0, weight_decay = 1e-5;
};

// Loads the checkpoint and fills the clip defaults from the encoder's
// position-embedding shape (T frames of size H * patch).
Model load_model(const EvalArgs& args, eval::FeatureOptions* features) {
  ModelConfig config = detect_config(args.checkpoint);
  Model model = Model::load(args.checkpoint, &config);
  features->run.device = parse_device(args.device);
  features->run.dtype = dtype_flag(args.dtype, features->run.device);
  features->run.threads = args.threads;
  apply_run_options(features->run);
  model.prepare_for_inference(features->run);
  const auto& e = config.encoder;
  features->clip.num_frames = args.frames > 0 ? args.frames : e.pos_emb_shape[0];
  features->clip.size = args.size > 0 ? args.size : e.pos_emb_shape[1] * e.patch_size;
  features->batch = args.feature_batch;
  return model;
}

std::vector<std::string> videos_of(const std::vector<eval::LabelledItem>& items) {
  std::vector<std::string> v;
  for (const auto& item : items) v.push_back(item.video);
  return v;
}

torch::Tensor labels_of(const std::vector<eval::LabelledItem>& items) {
  std::vector<int64_t> v;
  for (const auto& item : items) v.push_back(item.label);
  return torch::tensor(v, torch::kInt64);
}

void finish(const EvalArgs& args, const nlohmann::json& result) {
  if (!args.out.empty()) eval::write_json_atomic(args.out, result.dump(2));
}

int run_probe(const EvalArgs& args) {
  check(!args.test.empty(), "eval probe: --test is required");
  eval::FeatureOptions features;
  Model model = load_model(args, &features);
  const auto train = eval::read_labelled_manifest(args.data, args.task);
  const auto test = eval::read_labelled_manifest(args.test, args.task);
  const eval::FrameControl control = eval::parse_frame_control(args.control);
  // single-frame: both splits; shuffled: only the test clips (the probe learns on real videos).
  features.control = control == eval::FrameControl::kSingleFrame ? control : eval::FrameControl::kNone;
  const torch::Tensor train_x = eval::extract_features(model, videos_of(train), "tokens", features);
  features.control = control;
  features.control_seed = 1234567;
  const torch::Tensor test_x = eval::extract_features(model, videos_of(test), "tokens", features);

  eval::ProbeOptions options;
  options.kind = eval::parse_probe_kind(args.kind);
  options.num_heads = args.heads > 0 ? args.heads : model.config().encoder.num_heads;
  options.lr = args.lr > 0 ? args.lr : (options.kind == eval::ProbeKind::kMap ? 1e-3 : 1e-2);
  options.weight_decay = args.weight_decay;
  options.epochs = args.epochs;
  options.batch = args.batch;
  options.seeds.clear();
  for (int s = 0; s < args.seeds; ++s) options.seeds.push_back(s);
  const auto labels = (args.task == "class" || args.task == "direction" || args.task == "speed" || args.task == "arrow")
                          ? eval::task_label_names(args.task).size() : 0;
  options.num_classes = static_cast<int>(labels);
  const eval::ProbeResult r = eval::run_probe(train_x, labels_of(train), test_x, labels_of(test), options);
  std::cout << std::fixed << std::setprecision(4) << "probe " << args.kind << " task=" << args.task
            << " control=" << args.control << ": test accuracy " << r.mean << " +- " << r.std << " over "
            << r.test_accuracy.size() << " seeds (chance " << r.chance << ", train " << r.train_accuracy[0] << ")\n";
  finish(args, {{"task", args.task},
                {"metric", "top1_accuracy"},
                {"mean", r.mean},
                {"std", r.std},
                {"seeds", r.test_accuracy.size()},
                {"per_seed", r.test_accuracy},
                {"train_accuracy", r.train_accuracy},
                {"chance", r.chance},
                {"control", args.control},
                {"probe", args.kind},
                {"num_classes", r.num_classes},
                {"steps", r.steps},
                {"lr", options.lr},
                {"train_videos", train.size()},
                {"test_videos", test.size()},
                {"tokens", {test_x.size(1), test_x.size(2)}},
                {"checkpoint", args.checkpoint}});
  return 0;
}

int run_zeroshot(const EvalArgs& args) {
  check(!args.tokenizer.empty(), "eval zeroshot: --tokenizer is required");
  eval::FeatureOptions features;
  Model model = load_model(args, &features);
  check(model.config().kind == ModelKind::kVideoClip, "eval zeroshot: needs a video-text checkpoint");
  const auto items = eval::read_labelled_manifest(args.data, args.task);
  std::vector<std::string> labels = !args.labels_file.empty() ? read_labels_file(args.labels_file)
                                    : !args.labels.empty()    ? split_labels(args.labels)
                                                              : eval::task_prompt_labels(args.task);
  Tokenizer tokenizer(args.tokenizer);
  const torch::Tensor classes = class_embeddings(model, tokenizer, labels, prompt_templates(args.templates), features.run);
  const torch::Tensor video = eval::extract_features(model, videos_of(items), "video_embeddings", features);
  const torch::Tensor y = labels_of(items);
  check(y.max().item<int64_t>() < static_cast<int64_t>(labels.size()), "eval zeroshot: a label exceeds the ",
        labels.size(), " label names");
  const double accuracy = eval::zero_shot_accuracy(video, classes, y);
  const double chance = torch::bincount(y).max().item<double>() / y.size(0);
  std::cout << std::fixed << std::setprecision(4) << "zero-shot task=" << args.task << ": accuracy " << accuracy
            << " (chance " << chance << ", " << labels.size() << " labels, " << items.size() << " videos)\n";
  finish(args, {{"task", args.task}, {"metric", "top1_accuracy"}, {"mean", accuracy}, {"std", 0.0}, {"seeds", 1},
                {"chance", chance}, {"control", "none"}, {"labels", labels}, {"templates", args.templates},
                {"videos", items.size()}, {"checkpoint", args.checkpoint}});
  return 0;
}

nlohmann::json metrics_json(const eval::RetrievalMetrics& m) {
  return {{"recall_at_1", m.recall_at_1},     {"recall_at_5", m.recall_at_5},
          {"recall_at_10", m.recall_at_10},   {"median_rank", m.median_rank},
          {"mean_rank", m.mean_rank},         {"chance_at_1", m.chance_at_1},
          {"chance_at_5", m.chance_at_5},     {"chance_at_10", m.chance_at_10},
          {"chance_median_rank", m.chance_median_rank}};
}

int run_retrieval(const EvalArgs& args) {
  check(!args.tokenizer.empty(), "eval retrieval: --tokenizer is required");
  eval::FeatureOptions features;
  Model model = load_model(args, &features);
  check(model.config().kind == ModelKind::kVideoClip, "eval retrieval: needs a video-text checkpoint");
  const auto items = eval::read_labelled_manifest(args.data, "");
  std::vector<std::string> captions;
  for (const auto& item : items) {
    check(!item.caption.empty(), "eval retrieval: ", args.data, ": every line needs a \"caption\"");
    captions.push_back(item.caption);
  }
  Tokenizer tokenizer(args.tokenizer);
  const torch::Tensor text = encode_texts(model, tokenizer, captions, features.run);
  const torch::Tensor video = eval::extract_features(model, videos_of(items), "video_embeddings", features);
  const eval::RetrievalResult r = eval::evaluate_retrieval(text, video);
  std::cout << std::fixed << std::setprecision(4);
  for (const auto& [name, m] : {std::pair{"text->video", r.text_to_video}, std::pair{"video->text", r.video_to_text}})
    std::cout << name << ": R@1 " << m.recall_at_1 << " R@5 " << m.recall_at_5 << " R@10 " << m.recall_at_10
              << " median rank " << m.median_rank << " (chance R@1 " << m.chance_at_1 << " R@5 " << m.chance_at_5
              << " R@10 " << m.chance_at_10 << " median " << m.chance_median_rank << ", " << m.gallery << " items)\n";
  finish(args, {{"task", "retrieval"}, {"metric", "recall_at_1"},
                {"mean", 0.5 * (r.text_to_video.recall_at_1 + r.video_to_text.recall_at_1)}, {"std", 0.0},
                {"seeds", 1}, {"chance", r.text_to_video.chance_at_1}, {"control", "none"},
                {"text_to_video", metrics_json(r.text_to_video)}, {"video_to_text", metrics_json(r.video_to_text)},
                {"videos", items.size()}, {"checkpoint", args.checkpoint}});
  return 0;
}

void add_common(CLI::App* app, EvalArgs& args) {
  app->add_option("--checkpoint", args.checkpoint, "Weights (.npz): encoder, video-text or classifier")->required();
  app->add_option("--frames", args.frames, "Frames per clip (default: the encoder's position embedding)");
  app->add_option("--size", args.size, "Frame size (default: position embedding x patch)");
  app->add_option("--feature-batch", args.feature_batch, "Clips per encoder forward")->capture_default_str();
  app->add_option("--device", args.device, "cpu or cuda")->capture_default_str();
  app->add_option("--dtype", args.dtype, "f32 (the default here), bf16, int8 or auto: the encoders' dtype")
      ->capture_default_str();
  app->add_option("--threads", args.threads, "Intra-op threads (0: every core, or OMP_NUM_THREADS)");
  app->add_option("--out", args.out, "Write the result JSON here (atomically)");
}

std::function<int()> setup_eval(CLI::App& sub) {
  auto args = std::make_shared<EvalArgs>();
  sub.require_subcommand(1);
  CLI::App* probe = sub.add_subcommand("probe", "MAP or linear probe on frozen spatiotemporal tokens");
  add_common(probe, *args);
  probe->add_option("--data", args->data, "Training manifest (JSONL with integer task labels)")->required();
  probe->add_option("--test", args->test, "Held-out test manifest")->required();
  probe->add_option("--task", args->task, "Label field: class, direction, arrow, speed (or any integer field)")
      ->capture_default_str();
  probe->add_option("--kind", args->kind, "map (VideoGLUE attention pooling) or linear (mean-pooled)")->capture_default_str();
  probe->add_option("--control", args->control, "none, shuffled (test frames shuffled) or single-frame")
      ->capture_default_str();
  probe->add_option("--seeds", args->seeds, "Probe seeds (mean and std over them)")->capture_default_str();
  probe->add_option("--epochs", args->epochs, "Passes over the training features")->capture_default_str();
  probe->add_option("--batch", args->batch, "Probe batch size")->capture_default_str();
  probe->add_option("--lr", args->lr, "AdamW peak learning rate (default: 1e-3 map, 1e-2 linear; VideoGLUE: 1e-4 at batch 256)");
  probe->add_option("--weight-decay", args->weight_decay, "AdamW weight decay")->capture_default_str();
  probe->add_option("--heads", args->heads, "MAP heads (default: the encoder's)");
  probe->footer(
      "Controls: --control shuffled (motion accuracy must fall to chance), --control single-frame;\n"
      "for a random-init encoder control pass a checkpoint from `videoprism init` with the same config.\n"
      "Example:\n  videoprism eval probe --checkpoint enc.npz --data world/eval_train.jsonl \\\n"
      "    --test world/eval_test.jsonl --task direction --out direction.json");
  CLI::App* zeroshot = sub.add_subcommand("zeroshot", "Zero-shot classification (video-text model)");
  add_common(zeroshot, *args);
  zeroshot->add_option("--tokenizer", args->tokenizer, "SentencePiece model")->required();
  zeroshot->add_option("--data", args->data, "Labelled manifest")->required();
  zeroshot->add_option("--task", args->task, "Label field; built-in label phrases for the synth tasks")
      ->capture_default_str();
  zeroshot->add_option("--labels", args->labels, "Comma-separated label phrases, in label order");
  zeroshot->add_option("--labels-file", args->labels_file, "One label phrase per line, in label order");
  zeroshot->add_option("--templates", args->templates, "simple, kinetics or a file")->capture_default_str();
  CLI::App* retrieval = sub.add_subcommand("retrieval", "Text<->video retrieval (video-text model)");
  add_common(retrieval, *args);
  retrieval->add_option("--tokenizer", args->tokenizer, "SentencePiece model")->required();
  retrieval->add_option("--data", args->data, "Manifest of {video, caption} pairs")->required();
  zeroshot->footer(
      "Example:\n  videoprism eval zeroshot --checkpoint lvt.npz --tokenizer c4_en.model \\\n"
      "    --data world/eval_test.jsonl --task class --templates kinetics --out zeroshot.json");
  retrieval->footer(
      "Example:\n  videoprism eval retrieval --checkpoint lvt.npz --tokenizer c4_en.model \\\n"
      "    --data world/retrieval.jsonl --out retrieval.json");
  return [args, probe, zeroshot] {
    if (probe->parsed()) return run_probe(*args);
    if (zeroshot->parsed()) return run_zeroshot(*args);
    return run_retrieval(*args);
  };
}

VP_REGISTER_COMMAND("eval", "Frozen-backbone probes, zero-shot classification and retrieval", setup_eval);

}  // namespace
}  // namespace videoprism::cli
