#include "rehearse/embedded_crds.h"

asm(R"(
  .section .rodata
  .global nonevent_mw_crd_begin
  .global nonevent_mw_crd_end
  .global nonevent_pc_crd_begin
  .global nonevent_pc_crd_end
nonevent_mw_crd_begin:
  .incbin ")" NONEVENT_MW_CRD R"("
nonevent_mw_crd_end:
  .byte 0
nonevent_pc_crd_begin:
  .incbin ")" NONEVENT_PC_CRD R"("
nonevent_pc_crd_end:
  .byte 0
  .previous
)");
extern "C" const char nonevent_mw_crd_begin[];
extern "C" const char nonevent_mw_crd_end[];
extern "C" const char nonevent_pc_crd_begin[];
extern "C" const char nonevent_pc_crd_end[];

namespace nonevent::rehearse {

std::string_view maintenance_window_crd() { return {nonevent_mw_crd_begin, static_cast<size_t>(nonevent_mw_crd_end - nonevent_mw_crd_begin)}; }
std::string_view patch_campaign_crd() { return {nonevent_pc_crd_begin, static_cast<size_t>(nonevent_pc_crd_end - nonevent_pc_crd_begin)}; }

}  // namespace nonevent::rehearse
