#include "core/plugin_loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>

namespace natomedia::core {

LoadedPlugin::~LoadedPlugin() {
  if (handle_) dlclose(handle_);
}

std::string plugin_path(const std::string& name_or_path, const std::string& plugin_dir) {
  if (name_or_path.find('/') != std::string::npos) return name_or_path;
  return plugin_dir + "/natomedia_" + name_or_path + ".so";
}

std::vector<std::string> available_plugins(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (!d) return names;
  const std::string prefix = "natomedia_", suffix = ".so";
  while (dirent* e = readdir(d)) {
    std::string f = e->d_name;
    if (f.size() > prefix.size() + suffix.size() && f.compare(0, prefix.size(), prefix) == 0 &&
        f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0)
      names.push_back(f.substr(prefix.size(), f.size() - prefix.size() - suffix.size()));
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

static std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "none" : out;
}

static bool valid_bare_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

static std::string cxx_library(int32_t release, int32_t string_abi) {
  if (release < 0 && string_abi < 0) return "a C++ library other than libstdc++";
  return "libstdc++ " + std::to_string(release) +
         " with _GLIBCXX_USE_CXX11_ABI=" + std::to_string(string_abi);
}

Status check_plugin_abi(const natomedia_plugin_info& info, const std::string& path) {
  if (info.abi_version != NATOMEDIA_ABI_VERSION)
    return Status::Invalid("plugin " + path + " was built for plugin ABI version " +
                           std::to_string(info.abi_version) +
                           ", but this mod_natomedia has ABI version " +
                           std::to_string(NATOMEDIA_ABI_VERSION) +
                           "; rebuild the plugin against this version's SDK");
  // Only now is the rest of the entry known to have this version's layout.
  if (info.cxx_string_abi != NATOMEDIA_CXX_STRING_ABI ||
      info.cxx_library_release != NATOMEDIA_CXX_LIBRARY_RELEASE)
    return Status::Invalid(
        "plugin " + path + " was built for the C++ library ABI " +
        cxx_library(info.cxx_library_release, info.cxx_string_abi) +
        ", but this mod_natomedia was built for " +
        cxx_library(NATOMEDIA_CXX_LIBRARY_RELEASE, NATOMEDIA_CXX_STRING_ABI) +
        "; rebuild the plugin with the same compiler and without -D_GLIBCXX_USE_CXX11_ABI");
  return Status::Ok();
}

Result<std::shared_ptr<LoadedPlugin>> load_plugin(const std::string& name_or_path,
                                                  const std::string& plugin_dir) {
  const bool bare = name_or_path.find('/') == std::string::npos;
  if (bare && !valid_bare_name(name_or_path))
    return Status::Invalid("'" + name_or_path +
                           "' is not a plugin name (lower-case letters, digits, '_') nor a path");
  const std::string path = plugin_path(name_or_path, plugin_dir);
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (bare)
      return Status::Invalid("no plugin '" + name_or_path + "' in " + plugin_dir + " (looked for " +
                             path + "); plugins found there: " + join(available_plugins(plugin_dir)));
    return Status::Invalid("plugin file " + path + " does not exist");
  }
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) return Status::Invalid("cannot load plugin " + path + ": " + dlerror());
  auto entry = reinterpret_cast<natomedia_plugin_entry_fn>(
      dlsym(handle, NATOMEDIA_PLUGIN_ENTRY_SYMBOL));
  if (!entry) {
    dlclose(handle);
    return Status::Invalid(path + " is not a mod_natomedia plugin: it has no " +
                           NATOMEDIA_PLUGIN_ENTRY_SYMBOL + " entry point (use NATOMEDIA_PLUGIN)");
  }
  const natomedia_plugin_info* info = entry();
  if (!info) {
    dlclose(handle);
    return Status::Invalid(path + ": its entry point returned no plugin description");
  }
  if (Status abi = check_plugin_abi(*info, path); !abi.ok()) {
    dlclose(handle);
    return abi;
  }
  if (!info->name || !*info->name || !info->setup) {
    dlclose(handle);
    return Status::Invalid(path + ": its plugin description lacks a name or a setup function");
  }
  std::vector<std::string> required;
  if (auto needs = reinterpret_cast<natomedia_plugin_requires_fn>(
          dlsym(handle, NATOMEDIA_PLUGIN_REQUIRES_SYMBOL))) {
    const char* const* names = needs();
    for (size_t i = 0; names && names[i] && i < 64; ++i)
      if (*names[i]) required.emplace_back(names[i]);
  }
  return std::make_shared<LoadedPlugin>(handle, info, path, std::move(required));
}

std::vector<std::string> unmet_requirements(const std::vector<PluginNeeds>& loaded) {
  std::vector<std::string> unmet;
  for (const auto& plugin : loaded)
    for (const auto& needed : plugin.required) {
      bool present = std::any_of(loaded.begin(), loaded.end(),
                                 [&](const PluginNeeds& p) { return p.name == needed; });
      if (!present)
        unmet.push_back("NatoMediaPlugin " + plugin.name + " (" + plugin.where + "): the plugin '" +
                        plugin.name + "' needs the plugin '" + needed +
                        "', which is not loaded; add `NatoMediaPlugin " + needed + "`");
    }
  return unmet;
}

}  // namespace natomedia::core
