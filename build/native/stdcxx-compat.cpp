// Part of AunceSearch's TorchSharp compat step (see build/torchsharp-compat.sh): defines the one GCC 13
// libstdc++ symbol (GLIBCXX_3.4.32) that libLibTorchSharp.so needs, for systems whose libstdc++ is older.
#include <ios>
namespace std {
void ios_base_library_init() { static ios_base::Init init; }
}
