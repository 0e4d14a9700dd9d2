# install-extra.cmake - the install steps that depend on the prefix given
# at install time (`cmake --install BUILD --prefix P`, DESTDIR honoured by
# file(INSTALL)): the systemd units, with the path of the binary, and the
# example configuration file.  Run by install(SCRIPT) from CMakeLists.txt,
# which sets ORCH_SRC, ORCH_BIN and ORCH_BINDIR before.

if(IS_ABSOLUTE "${ORCH_BINDIR}")
  set(bindir "${ORCH_BINDIR}")
else()
  set(bindir "${CMAKE_INSTALL_PREFIX}/${ORCH_BINDIR}")
endif()

# The units, under lib/systemd/system of the prefix (a path systemd
# reads for /usr and /usr/local), ExecStart naming the installed binary.
foreach(unit orchestra-pilot.service orchestra-serve.service)
  file(READ "${ORCH_SRC}/deploy/systemd/${unit}" text)
  string(REPLACE "@BINDIR@" "${bindir}" text "${text}")
  file(WRITE "${ORCH_BIN}/units/${unit}" "${text}")
  file(INSTALL "${ORCH_BIN}/units/${unit}"
      DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system"
      PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endforeach()

# The example configuration: /etc/orchestra/orchestra.conf for the prefix
# /usr (as GNUInstallDirs has it), else PREFIX/etc/orchestra; never over
# an admin's file.  Every key in it is commented out.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(etc "/etc/orchestra")
else()
  set(etc "${CMAKE_INSTALL_PREFIX}/etc/orchestra")
endif()
if(EXISTS "$ENV{DESTDIR}${etc}/orchestra.conf")
  message(STATUS "Kept: $ENV{DESTDIR}${etc}/orchestra.conf (the example "
      "is in share/doc/orchestra)")
else()
  file(INSTALL "${ORCH_SRC}/deploy/orchestra.conf" DESTINATION "${etc}"
      PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
