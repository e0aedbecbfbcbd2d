// Reads FIX messages, one per line (raw SOH delimiters), from stdin and validates each
// against QuickFIX's FIX 4.4 data dictionary. Prints "OK" or "REJECT <reason>" per line.
#include <quickfix/DataDictionary.h>
#include <quickfix/Message.h>
#include <quickfix/Exceptions.h>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) { std::cerr << "usage: fix44-validate FIX44.xml < messages\n"; return 2; }
  try {
    FIX::DataDictionary dd(argv[1]);
    dd.checkFieldsOutOfOrder(true);
    dd.checkFieldsHaveValues(true);
    dd.checkUserDefinedFields(true);
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line.empty()) continue;
      try {
        FIX::Message message(line, dd, true);
        FIX::DataDictionary::validate(message, &dd, &dd);
        std::cout << "OK" << std::endl;
      } catch (std::exception& e) {
        std::cout << "REJECT " << e.what() << std::endl;
      }
    }
  } catch (std::exception& e) { std::cerr << "fix44-validate: " << e.what() << "\n"; return 2; }
  return 0;
}
