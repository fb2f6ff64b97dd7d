// Loads plugin shared objects the way apr_dbd_get_driver loads its drivers: a bare name is looked
// up as DIR/natomedia_NAME.so, anything with a '/' is a path. The ABI version is read before
// anything else in the plugin is touched.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <natomedia/plugin.h>

namespace natomedia::core {

class LoadedPlugin {
 public:
  LoadedPlugin(void* handle, const natomedia_plugin_info* info, std::string path,
               std::vector<std::string> required = {})
      : handle_(handle), info_(info), path_(std::move(path)), required_(std::move(required)) {}
  ~LoadedPlugin();
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;

  const natomedia_plugin_info& info() const { return *info_; }
  const std::string& path() const { return path_; }
  // The plugins it declared it needs (NATOMEDIA_PLUGIN_REQUIRES), by name.
  const std::vector<std::string>& required() const { return required_; }

 private:
  void* handle_;
  const natomedia_plugin_info* info_;
  std::string path_;
  std::vector<std::string> required_;
};

// One loaded plugin as the requirement check sees it.
struct PluginNeeds {
  std::string name;                   // natomedia_plugin_info::name
  std::string where;                  // its NatoMediaPlugin line, "httpd.conf:12"
  std::vector<std::string> required;  // the plugins it needs
};

// One message per plugin needed and not loaded, naming the one that needs it, where it is
// loaded, and the line to add. Empty when every need is met (the order of loading is free:
// providers are looked up while requests are served).
std::vector<std::string> unmet_requirements(const std::vector<PluginNeeds>& loaded);

// The path a plugin reference names: bare names resolve under plugin_dir.
std::string plugin_path(const std::string& name_or_path, const std::string& plugin_dir);

// The bare names of the plugins found in `dir` (natomedia_*.so), sorted.
std::vector<std::string> available_plugins(const std::string& dir);

// Ok when a plugin's entry `info`, found in `path`, was built for this core: the same SDK ABI
// version (read first, from any plugin), then the same C++ library ABI (the libstdc++ string ABI,
// _GLIBCXX_USE_CXX11_ABI, and the libstdc++ major version, _GLIBCXX_RELEASE). Otherwise Invalid
// naming the plugin's and the core's values.
Status check_plugin_abi(const natomedia_plugin_info& info, const std::string& path);

// Invalid with a message that says what would be right: for an unknown bare name, the plugins
// that exist in the directory; for an ABI mismatch, both version numbers.
Result<std::shared_ptr<LoadedPlugin>> load_plugin(const std::string& name_or_path,
                                                  const std::string& plugin_dir);

}  // namespace natomedia::core
