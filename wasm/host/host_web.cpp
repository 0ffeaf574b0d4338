// Browser host: GLFW (Emscripten's -sUSE_GLFW=3) for the canvas and its WebGL2 context, the Dear
// ImGui GLFW + OpenGL3 backends, and the frame loop, shared by the widget and the dashboard. See
// host.h for the contract.
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

namespace canvass::host {
namespace {

struct PointerEvent {
  PointerKind kind;
  ImVec2 pos;
  bool touch;
};

struct State {
  App app;
  GLFWwindow* window = nullptr;
  float dpr = 1;
  float css_w = 0, css_h = 0;
  bool fonts_dirty = true;
  bool device_ready = false;  // the OpenGL3 backend made its objects (first NewFrame done)
  std::deque<PointerEvent> queue;
  float wheel_x = 0, wheel_y = 0;
  ImVec2 mouse{-FLT_MAX, -FLT_MAX};
  bool button = false;
  bool hide_after_release = false;  // touch: no hover after the finger lifts
  int hot_frames = 4;               // frames still to draw after the last input or change
  std::int64_t last_frame_ms = 0;
  std::uint64_t frames = 0;  // frames drawn since Start
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
  ImGui::GetIO().Fonts->Clear();
  if (g->app.build_fonts) g->app.build_fonts(g->dpr);
  ImGui::GetIO().Fonts->Build();
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
  io.MouseWheel = -g->wheel_y;  // ImGui: positive scrolls up
  io.MouseWheelH = -g->wheel_x;
  g->wheel_x = g->wheel_y = 0;
  if (transitioned && g->app.on_press) g->app.on_press();
}

void Frame() {
  if (!g) return;
  const std::int64_t now = NowMs();
  if (g->hot_frames == 0 && g->queue.empty() && now - g->last_frame_ms < kIdleFrameMs) return;
  if (!g->queue.empty()) g->hot_frames = kHotFrames;
  if (g->hot_frames > 0) --g->hot_frames;
  g->last_frame_ms = now;
  // Phase marks (docs/widget.md, Start-up phases): the font atlas, then the first frame's device
  // objects (shaders, buffers, the atlas texture), as the page's performance timeline shows them.
  const bool first = !g->device_ready;
  if (g->fonts_dirty) {
    if (first) EM_ASM({ performance.mark('canvass:font-atlas-start'); });
    BuildFonts();
    if (first) EM_ASM({ performance.measure('canvass:font-atlas', 'canvass:font-atlas-start'); });
    if (g->device_ready) {
      ImGui_ImplOpenGL3_DestroyFontsTexture();
      ImGui_ImplOpenGL3_CreateFontsTexture();
    }
  }
  if (first) EM_ASM({ performance.mark('canvass:gl-objects-start'); });
  ImGui_ImplOpenGL3_NewFrame();
  if (first) EM_ASM({ performance.measure('canvass:gl-objects', 'canvass:gl-objects-start'); });
  g->device_ready = true;
  ImGui_ImplGlfw_NewFrame();
  // DrawNow() and the next animation frame may fall in the same tick of the clock: ImGui wants
  // time to pass between frames.
  if (ImGui::GetIO().DeltaTime <= 0) ImGui::GetIO().DeltaTime = 1e-4f;
  ApplyPointer();
  ImGui::NewFrame();
  if (g->app.draw && g->app.draw(now)) g->hot_frames = kHotFrames;
  ImGui::Render();
  int fw = 0, fh = 0;
  glfwGetFramebufferSize(g->window, &fw, &fh);
  glViewport(0, 0, fw, fh);
  glClearColor(g->app.clear_rgb[0], g->app.clear_rgb[1], g->app.clear_rgb[2], 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  ++g->frames;
  if (g->app.after_frame) g->app.after_frame();
}

}  // namespace

bool Start(App app, float css_width, float css_height, float dpr) {
  if (g) return false;
  if (!glfwInit()) return false;
  g = new State;
  g->app = std::move(app);
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
  // Not glfwSetWindowSize: Emscripten's GLFW takes a size equal to the screen's for a request to
  // go full screen, and wraps the canvas in a full-screen <div> that covers the page's <input>
  // mirrors (dpr 1 in a full-screen kiosk, or a headless browser). Setting the canvas size tells
  // GLFW the new size through its resize listener all the same.
  EM_ASM({ Module.setCanvasSize($0, $1); },
         std::max(1, static_cast<int>(std::round(css_width * dpr))),
         std::max(1, static_cast<int>(std::round(css_height * dpr))));
}

void Pointer(PointerKind kind, float css_x, float css_y, bool touch) {
  if (!g) return;
  g->queue.push_back({kind, ImVec2(css_x * g->dpr, css_y * g->dpr), touch});
  g->hot_frames = kHotFrames;
  if (g->queue.size() > 256) g->queue.pop_front();  // a stalled tab must not grow without bound
}

void Wheel(float dx, float dy) {
  if (!g) return;
  g->wheel_x += dx;
  g->wheel_y += dy;
  g->hot_frames = kHotFrames;
}

void Invalidate() {
  if (g) g->hot_frames = kHotFrames;
}

float Dpr() { return g ? g->dpr : 1; }

std::uint64_t FramesDrawn() { return g ? g->frames : 0; }

void DrawNow() {
  if (!g) return;
  g->hot_frames = std::max(g->hot_frames, 1);
  Frame();
  g->hot_frames = kHotFrames;
}

ImFont* AddFont(const std::string& ttf, float css_px, float dpr) {
  ImGuiIO& io = ImGui::GetIO();
  // Basic Latin, Latin-1, Cyrillic (with Ukrainian Ґ ґ), punctuation (dashes, quotes, ellipsis),
  // euro, №: the same set the build subsets DejaVu Sans to (wasm/CMakeLists.txt).
  static const ImWchar kRanges[] = {0x0020, 0x007E, 0x00A0, 0x00FF, 0x0400, 0x045F, 0x0490, 0x0491,
                                    0x2010, 0x2027, 0x20AC, 0x20AC, 0x2116, 0x2116, 0};
  const float px = std::round(css_px * dpr);
  ImFontConfig cfg;
  if (ttf.empty()) {
    cfg.SizePixels = px;
    return io.Fonts->AddFontDefault(&cfg);
  }
  cfg.FontDataOwnedByAtlas = false;  // the caller keeps the bytes alive
  cfg.OversampleH = 1;  // drawn at its exact pixel size: no need for sub-pixel positions
  cfg.OversampleV = 1;
  return io.Fonts->AddFontFromMemoryTTF(const_cast<char*>(ttf.data()), static_cast<int>(ttf.size()),
                                        px, &cfg, kRanges);
}

}  // namespace canvass::host
