// Splits shimmy 1.9.0's per-token time into GPU decode and CPU sampling, on the same llama.cpp that
// shimmy vendors (link it against the static libraries of scripts/gpu/build-on-device.sh).
//
// It repeats what shimmy's LlamaLoaded::generate does for one request (src/engine/llama.rs, v1.9.0):
// a fresh context (n_ctx 4096, n_batch 4096, n_ubatch 512, shimmy's thread count), the prompt in one
// batch with logits for the last token, then per token `llama_sampler_sample(chain, ctx, -1)` and a
// one-token `llama_decode`. shimmy's chain is
//   temp(0.7) -> top_p(0.9, 1) -> top_k(40) -> penalties(64, 0.0, 0.0, 1.1) -> greedy
// (llama-cpp-2's `penalties(last_n, repeat, freq, present)`: shimmy's call passes repeat = 0.0 and
// present = 1.1, although its comment reads "(repeat_last_n, freq_penalty, presence_penalty, penalty)").
// Each variant below changes one thing; the time of `llama_decode` + `llama_synchronize` and the time
// of `llama_sampler_sample` are summed separately, so their difference between variants shows where
// the per-token time goes.
//
// Usage: decode_probe MODEL.gguf [TOKENS] [VARIANT,...]    prints one JSON object per variant.
// Variants: shimmy, top_p_1, top_k_1_top_p_1, greedy, penalty_fixed (repeat 1.1 as intended).
// GGML_CUDA_DISABLE_GRAPHS=1 in the environment turns CUDA graphs off (read once per process).
#include "llama.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

static const char * PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle.";

struct Chain {
    const char * name;
    float temp, top_p;
    int top_k;
    float repeat, present;
    bool greedy_only;
};

static const Chain CHAINS[] = {
    {"shimmy", 0.7f, 0.9f, 40, 0.0f, 1.1f, false},
    {"top_p_1", 0.7f, 1.0f, 40, 0.0f, 1.1f, false},
    {"top_k_1_top_p_1", 0.7f, 1.0f, 1, 0.0f, 1.1f, false},
    {"greedy", 0.0f, 1.0f, 0, 1.0f, 0.0f, true},
    {"penalty_fixed", 0.7f, 0.9f, 40, 1.1f, 0.0f, false},
};

// shimmy's get_optimal_thread_count (src/engine/llama.rs)
static int shimmy_threads() {
    int total = (int) std::thread::hardware_concurrency();
    int physical = total <= 4 ? total : total <= 8 ? std::max(total / 2, 4) : total <= 16 ? std::max(total / 2, 6) : 8;
    int optimal = physical <= 2 ? physical : physical <= 4 ? physical - 1 : physical <= 8 ? physical - 2 : physical * 3 / 4;
    return std::max(optimal, 1);
}

static double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static std::string json_escape(const std::string & s) {
    std::ostringstream o;
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') o << '\\' << c;
        else if (c < 0x20) { char b[8]; snprintf(b, sizeof b, "\\u%04x", c); o << b; }
        else o << c;
    }
    return o.str();
}

static llama_sampler * make_chain(const Chain & c, const std::vector<llama_token> & prompt) {
    llama_sampler * s = llama_sampler_chain_init(llama_sampler_chain_default_params());
    if (!c.greedy_only) {
        llama_sampler_chain_add(s, llama_sampler_init_temp(c.temp));
        llama_sampler_chain_add(s, llama_sampler_init_top_p(c.top_p, 1));
        llama_sampler_chain_add(s, llama_sampler_init_top_k(c.top_k));
        llama_sampler_chain_add(s, llama_sampler_init_penalties(64, c.repeat, 0.0f, c.present));
    }
    llama_sampler_chain_add(s, llama_sampler_init_greedy());
    for (llama_token t : prompt) llama_sampler_accept(s, t);  // shimmy: `.with_tokens(prompt)`
    return s;
}

int main(int argc, char ** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.gguf [TOKENS] [VARIANT,...]\n", argv[0]);
        return 2;
    }
    const int n_tokens = argc > 2 ? atoi(argv[2]) : 128;
    const std::string wanted = argc > 3 ? argv[3] : "shimmy,top_p_1,top_k_1_top_p_1,greedy,penalty_fixed";

    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 999;
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "load failed\n"); return 1; }
    const llama_vocab * vocab = llama_model_get_vocab(model);

    std::vector<llama_token> prompt(512);
    int n = llama_tokenize(vocab, PROMPT, (int) strlen(PROMPT), prompt.data(), (int) prompt.size(), true, false);
    prompt.resize(n);

    for (const Chain & c : CHAINS) {
        if (("," + wanted + ",").find("," + std::string(c.name) + ",") == std::string::npos) continue;
        llama_context_params cp = llama_context_default_params();
        cp.n_ctx = 4096;
        cp.n_batch = 4096;
        cp.n_ubatch = 512;
        cp.n_threads = cp.n_threads_batch = shimmy_threads();
        llama_context * ctx = llama_init_from_model(model, cp);
        if (!ctx) { fprintf(stderr, "context failed\n"); return 1; }

        llama_batch batch = llama_batch_init((int) prompt.size(), 0, 1);
        for (size_t i = 0; i < prompt.size(); i++) {
            batch.token[i] = prompt[i];
            batch.pos[i] = (llama_pos) i;
            batch.n_seq_id[i] = 1;
            batch.seq_id[i][0] = 0;
            batch.logits[i] = i + 1 == prompt.size();
        }
        batch.n_tokens = (int) prompt.size();
        double t0 = now_ms();
        if (llama_decode(ctx, batch)) { fprintf(stderr, "prompt decode failed\n"); return 1; }
        llama_synchronize(ctx);
        const double prompt_ms = now_ms() - t0;
        llama_batch_free(batch);

        llama_sampler * smpl = make_chain(c, prompt);
        llama_batch step = llama_batch_init(1, 0, 1);
        double sample_ms = 0, decode_ms = 0;
        std::string text;
        int produced = 0;
        const double start = now_ms();
        for (int i = 0; i < n_tokens; i++) {
            double a = now_ms();
            llama_token tok = llama_sampler_sample(smpl, ctx, -1);
            double b = now_ms();
            sample_ms += b - a;
            char piece[256];
            int len = llama_token_to_piece(vocab, tok, piece, sizeof piece, 0, false);
            if (len > 0 && produced < 40) text.append(piece, len);
            produced++;
            // no end-of-generation stop: every variant decodes the same number of tokens
            step.n_tokens = 1;
            step.token[0] = tok;
            step.pos[0] = (llama_pos) (prompt.size() + i);
            step.n_seq_id[0] = 1;
            step.seq_id[0][0] = 0;
            step.logits[0] = 1;
            double d = now_ms();
            if (llama_decode(ctx, step)) { fprintf(stderr, "decode failed\n"); return 1; }
            llama_synchronize(ctx);
            decode_ms += now_ms() - d;
        }
        const double total_ms = now_ms() - start;
        printf("{\"variant\": \"%s\", \"graphs_disabled\": %s, \"tokens\": %d, \"prompt_tokens\": %zu, "
               "\"prompt_ms\": %.3f, \"ms_per_token\": %.4f, \"decode_ms_per_token\": %.4f, "
               "\"sample_ms_per_token\": %.4f, \"other_ms_per_token\": %.4f, \"first_40_tokens\": \"%s\"}\n",
               c.name, getenv("GGML_CUDA_DISABLE_GRAPHS") ? "true" : "false", produced, prompt.size(), prompt_ms,
               total_ms / produced, decode_ms / produced, sample_ms / produced,
               (total_ms - decode_ms - sample_ms) / produced, json_escape(text).c_str());
        fflush(stdout);
        llama_batch_free(step);
        llama_sampler_free(smpl);
        llama_free(ctx);
    }
    llama_model_free(model);
    return 0;
}
