# formwork_warnings(target): our own code builds with -Wall -Wextra -Werror.
function(formwork_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Werror -Wno-error=deprecated-declarations>)
endfunction()
