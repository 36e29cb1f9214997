// videoprism serve: a local web page and JSON API over an index.
#include <csignal>
#include <iostream>
#include <thread>

#include "command.h"
#include "videoprism/core/error.h"
#include "videoprism/serve/serve.h"

namespace videoprism::cli {
namespace {

struct ServeArgs {
  ServeOptions options;
  double max_upload_mb = 256;
};

VideoServer* g_server = nullptr;

void on_signal(int) {
  if (g_server) g_server->stop();
}

int run_serve(ServeArgs args) {
  check(args.max_upload_mb > 0, "serve: --max-upload-mb expected > 0, got ", args.max_upload_mb);
  args.options.max_upload_bytes = static_cast<int64_t>(args.max_upload_mb * 1024 * 1024);
  if (is_public_host(args.options.host))
    std::cerr << "videoprism: serve: warning: --host " << args.options.host
              << " exposes the server beyond this machine"
              << (args.options.token.empty() ? " with no --token: anyone who can reach it can search and watch "
                                               "your indexed videos"
                                             : "; traffic is plain HTTP (the token and videos travel unencrypted)")
              << "\n";
  VideoServer server(args.options);
  const int port = server.bind();
  g_server = &server;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const std::string host = args.options.host.find(':') != std::string::npos ? "[" + args.options.host + "]"
                                                                            : args.options.host;
  std::cout << "serving " << args.options.db << " at http://" << host << ":" << port << "/"
            << (args.options.token.empty() ? "" : "#token=...") << std::endl;
  server.run();
  g_server = nullptr;
  return 0;
}

VP_REGISTER_COMMAND("serve", "Search an index in the browser: web page and JSON API", [](CLI::App& sub) {
  auto args = std::make_shared<ServeArgs>();
  ServeOptions& o = args->options;
  sub.add_option("--db", o.db, "Index directory (from `videoprism index`)")->required();
  sub.add_option("--host", o.host, "Address to listen on (0.0.0.0: every interface, with a warning)")
      ->capture_default_str();
  sub.add_option("--port", o.port, "Port (0: any free port, printed)")->capture_default_str();
  sub.add_option("--threads", o.threads, "HTTP worker threads (0: max(4, cores))");
  sub.add_option("--model-threads", o.model_threads, "Intra-op threads of the model (0: every core, or OMP_NUM_THREADS)");
  sub.add_option("--token", o.token, "Require this bearer token on /api/ (open the page at /#token=TOKEN)");
  sub.add_option("--cache-dir", o.cache_dir, "Thumbnails and previews (default: ~/.cache/videoprism/serve/<db>)");
  sub.add_option("--checkpoint", o.checkpoint, "Checkpoint (default: the index's; must be the same model)");
  sub.add_option("--tokenizer", o.tokenizer, "SentencePiece model if the index recorded none");
  sub.add_option("--max-upload-mb", args->max_upload_mb, "Largest video accepted by POST /api/search/video")
      ->capture_default_str();
  sub.add_option("--text-cache", o.text_cache_size, "Query text embeddings kept (LRU)")->capture_default_str();
  sub.add_option("--timeout", o.timeout_s, "Socket read/write timeout in seconds")->capture_default_str();
  sub.add_option("--poll", o.poll_interval_s, "Seconds between checks for a new index generation")
      ->capture_default_str();
  sub.add_option("--dtype", o.dtype, "auto (bf16 where the CPU has native bf16, else f32), f32, bf16 or int8 (CPU)")->capture_default_str();
  sub.add_option("--device", o.device, "cpu or cuda")->capture_default_str();
  sub.footer(
      "Example:\n  videoprism serve --db ~/videos.vpdb            # then open http://127.0.0.1:8080/\n"
      "  videoprism serve --db ~/videos.vpdb --host 0.0.0.0 --token \"$(openssl rand -hex 16)\"\n"
      "The index is opened read-only and followed: run `videoprism index` on it meanwhile and the server\n"
      "switches to each new complete generation. API and security: docs/serve.md.");
  return [args] { return run_serve(*args); };
});

}  // namespace
}  // namespace videoprism::cli
