#pragma once
// The nonevent.dev CRDs (crds/*.yaml) carried inside the binary, so `nonevent rehearse` installs
// exactly the API this build's controllers read, with no file to find at run time.
#include <string_view>

namespace nonevent::rehearse {

std::string_view maintenance_window_crd();
std::string_view patch_campaign_crd();

}  // namespace nonevent::rehearse
