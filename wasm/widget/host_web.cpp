// Browser host: GLFW (Emscripten's -sUSE_GLFW=3) for the canvas and its WebGL2 context, the Dear
// ImGui GLFW + OpenGL3 backends, and the frame loop. See host.h for the contract.
//
// HiDPI: the GLFW window is sized in device pixels (CSS size x devicePixelRatio) while the page's
// stylesheet keeps the canvas at its CSS size, so one ImGui display pixel is one device pixel and
// the UI scales itself by the ratio. Pointer positions arrive in CSS pixels and are scaled here.
#include <GLES3/gl3.h>
#include <GLFW/glfw3.h>
#include <emscripten.h>

#include <algorithm>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <deque>

#include "backends/imgui_impl_glfw.h"
#include "backends/imgui_impl_opengl3.h"
#include "host.h"
#include "imgui.h"

namespace canvass::widget::host {
namespace {

struct PointerEvent {
  PointerKind kind;
  ImVec2 pos;
  bool touch;
};

struct State {
  Widget* widget = nullptr;
  GLFWwindow* window = nullptr;
  std::string font_ttf;
  float dpr = 1;
  float css_w = 0, css_h = 0;
  bool fonts_dirty = true;
  bool device_ready = false;  // the OpenGL3 backend made its objects (first NewFrame done)
  UiFonts fonts;
  UiFrame frame;
  std::function<void()> after_frame;
  std::deque<PointerEvent> queue;
  ImVec2 mouse{-FLT_MAX, -FLT_MAX};
  bool button = false;
  bool hide_after_release = false;  // touch: no hover after the finger lifts
  int hot_frames = 4;               // frames still to draw after the last input or change
  std::int64_t last_frame_ms = 0;
};
constexpr int kHotFrames = 6;
constexpr std::int64_t kIdleFrameMs = 500;
State* g = nullptr;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void BuildFonts() {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  // Basic Latin, Latin-1, Cyrillic (with Ukrainian Ґ ґ), punctuation (dashes, quotes, ellipsis),
  // euro, №: the same set the build subsets DejaVu Sans to (wasm/CMakeLists.txt).
  static const ImWchar kRanges[] = {0x0020, 0x007E, 0x00A0, 0x00FF, 0x0400, 0x045F, 0x0490, 0x0491,
                                    0x2010, 0x2027, 0x20AC, 0x20AC, 0x2116, 0x2116, 0};
  auto add = [&](float css_px) -> ImFont* {
    const float px = std::round(css_px * g->dpr);
    if (g->font_ttf.empty()) {
      ImFontConfig cfg;
      cfg.SizePixels = px;
      return io.Fonts->AddFontDefault(&cfg);
    }
    ImFontConfig cfg;
    cfg.FontDataOwnedByAtlas = false;  // g->font_ttf keeps the bytes alive
    cfg.OversampleH = 1;  // drawn at its exact pixel size: no need for sub-pixel positions
    cfg.OversampleV = 1;
    return io.Fonts->AddFontFromMemoryTTF(g->font_ttf.data(), static_cast<int>(g->font_ttf.size()),
                                          px, &cfg, kRanges);
  };
  g->fonts.body = add(20);
  g->fonts.large = add(28);
  g->fonts.huge = add(40);
  io.Fonts->Build();
  g->fonts_dirty = false;
}

// Replays queued pointer events into ImGui's polled mouse state, one button transition per
// frame, so that a tap (down and up in the same frame) is still a click.
void ApplyPointer() {
  ImGuiIO& io = ImGui::GetIO();
  if (g->hide_after_release && !g->button) {
    g->mouse = ImVec2(-FLT_MAX, -FLT_MAX);
    g->hide_after_release = false;
  }
  bool transitioned = false;
  while (!g->queue.empty()) {
    // Nothing after a button transition in the same frame: ImGui must see the press or release
    // where it happened (a move to the next click's target would make it miss this one).
    if (transitioned) break;
    const PointerEvent e = g->queue.front();
    if (e.kind == PointerKind::kMove) {
      g->mouse = e.pos;
    } else if (e.kind == PointerKind::kLeave) {
      if (!g->button) g->mouse = ImVec2(-FLT_MAX, -FLT_MAX);
    } else {
      const bool down = e.kind == PointerKind::kDown;
      if (down != g->button) {
        transitioned = true;
        g->button = down;
        g->mouse = e.pos;
        if (!down && e.touch) g->hide_after_release = true;
      }
    }
    g->queue.pop_front();
  }
  io.MousePos = g->mouse;
  io.MouseDown[0] = g->button;
  for (int i = 1; i < 5; ++i) io.MouseDown[i] = false;
  if (transitioned && g->widget) g->widget->Touch(NowMs());
}

void Frame() {
  if (!g) return;
  const std::int64_t now = NowMs();
  if (g->hot_frames == 0 && g->queue.empty() && now - g->last_frame_ms < kIdleFrameMs) return;
  if (!g->queue.empty()) g->hot_frames = kHotFrames;
  if (g->hot_frames > 0) --g->hot_frames;
  g->last_frame_ms = now;
  if (g->fonts_dirty) {
    BuildFonts();
    if (g->device_ready) {
      ImGui_ImplOpenGL3_DestroyFontsTexture();
      ImGui_ImplOpenGL3_CreateFontsTexture();
    }
  }
  ImGui_ImplOpenGL3_NewFrame();
  g->device_ready = true;
  ImGui_ImplGlfw_NewFrame();
  ApplyPointer();
  ImGui::NewFrame();
  const Screen before = g->widget->screen();
  DrawWidget(*g->widget, g->fonts, g->dpr, now, &g->frame);
  if (g->widget->screen() != before) g->hot_frames = kHotFrames;
  ImGui::Render();
  int fw = 0, fh = 0;
  glfwGetFramebufferSize(g->window, &fw, &fh);
  glViewport(0, 0, fw, fh);
  glClearColor(250 / 255.0f, 250 / 255.0f, 247 / 255.0f, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  if (g->after_frame) g->after_frame();
}

}  // namespace

bool Start(Widget* widget, std::string font_ttf, float css_width, float css_height, float dpr,
           std::function<void()> after_frame) {
  if (g) return false;
  if (!glfwInit()) return false;
  g = new State;
  g->widget = widget;
  g->font_ttf = std::move(font_ttf);
  g->after_frame = std::move(after_frame);
  g->dpr = dpr > 0 ? dpr : 1;
  g->css_w = css_width;
  g->css_h = css_height;
  glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  g->window = glfwCreateWindow(std::max(1, static_cast<int>(std::round(css_width * g->dpr))),
                               std::max(1, static_cast<int>(std::round(css_height * g->dpr))),
                               "Canvass", nullptr, nullptr);
  if (!g->window) {
    delete g;
    g = nullptr;
    glfwTerminate();
    return false;
  }
  glfwMakeContextCurrent(g->window);
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // no imgui.ini: the layout is computed every frame
  // install_callbacks=false: mouse comes from Pointer(); text from the page's <input> mirrors.
  ImGui_ImplGlfw_InitForOpenGL(g->window, false);
  ImGui_ImplOpenGL3_Init(nullptr);
  emscripten_set_main_loop(Frame, 0, false);
  return true;
}

void Stop() {
  if (!g) return;
  emscripten_cancel_main_loop();
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(g->window);
  glfwTerminate();
  delete g;
  g = nullptr;
}

void Resize(float css_width, float css_height, float dpr) {
  if (!g) return;
  if (dpr <= 0) dpr = 1;
  if (dpr != g->dpr) g->fonts_dirty = true;
  g->dpr = dpr;
  g->css_w = css_width;
  g->css_h = css_height;
  g->hot_frames = kHotFrames;
  glfwSetWindowSize(g->window, std::max(1, static_cast<int>(std::round(css_width * dpr))),
                    std::max(1, static_cast<int>(std::round(css_height * dpr))));
}

void Pointer(PointerKind kind, float css_x, float css_y, bool touch) {
  if (!g) return;
  g->queue.push_back({kind, ImVec2(css_x * g->dpr, css_y * g->dpr), touch});
  g->hot_frames = kHotFrames;
  if (g->queue.size() > 256) g->queue.pop_front();  // a stalled tab must not grow without bound
}

void Invalidate() {
  if (g) g->hot_frames = kHotFrames;
}

float Dpr() { return g ? g->dpr : 1; }

const UiFrame& LastFrame() {
  static const UiFrame kEmpty;
  return g ? g->frame : kEmpty;
}

}  // namespace canvass::widget::host
